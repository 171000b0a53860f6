// Elementwise kernels of capsize's train-mlp workload. The GEMMs run in CLBlast; these do
// everything between them except the bias update, a CLBlast GEMV. All matrices are row-major.

// z[row, j] = max(z[row, j] + bias[j], 0) (relu != 0) or z[row, j] + bias[j] (relu == 0).
kernel void bias_activation(global float *z, global const float *bias, const uint columns,
                            const uint total, const int relu) {
    const uint index = get_global_id(0);
    if (index >= total) return;
    const float value = z[index] + bias[index % columns];
    z[index] = relu ? fmax(value, 0.0f) : value;
}

// One work-item per row: the row's cross-entropy into row_loss[loss_offset + row], and
// dLoss/dLogits = (softmax(logits) - onehot(label)) / batch into gradient. row_loss holds the rows of
// several steps, so that no step has to wait for its loss to be read.
kernel void softmax_cross_entropy(global const float *logits, global const int *labels,
                                  global float *gradient, global float *row_loss,
                                  const uint classes, const uint batch, const uint loss_offset) {
    const uint row = get_global_id(0);
    if (row >= batch) return;
    global const float *z = logits + (size_t)row * classes;
    global float *g = gradient + (size_t)row * classes;
    float largest = -INFINITY;
    for (uint j = 0; j < classes; j++) largest = fmax(largest, z[j]);
    float sum = 0.0f;
    for (uint j = 0; j < classes; j++) sum += exp(z[j] - largest);
    const int label = labels[row];
    row_loss[loss_offset + row] = log(sum) - (z[label] - largest);
    const float scale = 1.0f / (float)batch;
    for (uint j = 0; j < classes; j++) g[j] = exp(z[j] - largest) / sum * scale;
    g[label] -= scale;
}

// gradient[i] = 0 where the ReLU output activation[i] was 0 (its input was not positive).
kernel void relu_backward(global float *gradient, global const float *activation, const uint total) {
    const uint index = get_global_id(0);
    if (index >= total) return;
    if (activation[index] <= 0.0f) gradient[index] = 0.0f;
}
