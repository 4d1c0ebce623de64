/// Cells, Markdown notebooks, tables and plots.
public enum PrnNotebook {}
