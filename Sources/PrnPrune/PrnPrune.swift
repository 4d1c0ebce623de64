/// Pruning scores, masks, ablations and layer statistics (see METHODS.md).
public enum PrnPrune {}
