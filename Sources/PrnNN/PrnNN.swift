/// Layers, the model zoo, losses, optimizers, the training loop and checkpoints.
/// (Arrives with the networks-and-training work; see DESIGN.md, NN.)
public enum PrnNN {}
