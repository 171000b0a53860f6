kernel void nothing2(void) {}
