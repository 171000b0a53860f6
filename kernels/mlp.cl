kernel void nothing(void) {}
