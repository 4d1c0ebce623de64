/// Data sets: idx and CIFAR-10 readers, synthetic data, batching and augmentation.
/// (The readers arrive with the networks-and-training work; see DESIGN.md, Data.)
public enum PrnData {}
