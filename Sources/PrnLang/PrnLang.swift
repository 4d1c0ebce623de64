/// The prn language: lexer, parser, interpreter and commands.
public enum PrnLang {}
