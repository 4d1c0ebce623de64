import PrnKernel
let a = Tensor.randn([64, 32], seed: 1)
let b = Tensor.randn([32, 16], seed: 2)
print(a.matmul(b).shape)
