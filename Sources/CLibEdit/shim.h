#include <stdio.h>
#include <string.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <editline/readline.h>

/*
 * Small accessors for libedit's readline-compatible globals. Reading or writing mutable C
 * globals from Swift 6 is a concurrency error, so the REPL goes through these functions.
 */

/* Characters that end a word for tab completion: operators, brackets, quotes and '='. */
static const char prn_word_break_characters[] = " \t\n\"'`=()[]{},;+-*/@<>";

static inline void prn_set_completion_function(rl_completion_func_t *function) {
    rl_attempted_completion_function = function;
}

static inline void prn_set_word_break_characters(void) {
    rl_basic_word_break_characters = prn_word_break_characters;
    rl_completer_word_break_characters = (char *)prn_word_break_characters;
}

static inline void prn_set_completion_append_character(int c) { rl_completion_append_character = c; }

/* Nonzero: readline must not fall back to file name completion when we return no matches. */
static inline void prn_set_attempted_completion_over(int value) { rl_attempted_completion_over = value; }

static inline void prn_set_readline_name(const char *name) { rl_readline_name = name; }

/* The line being edited (valid during a completion callback). */
static inline const char *prn_line_buffer(void) { return rl_line_buffer; }

static inline int prn_history_length(void) { return history_length; }

/* The i-th history entry, 0 oldest; NULL when out of range. */
static inline const char *prn_history_line(int i) {
    HIST_ENTRY *entry = history_get(history_base + i);
    return entry ? entry->line : NULL;
}

/* Installs `handler` for `signum` without SA_RESTART, so a blocking read returns EINTR. */
static inline int prn_install_signal(int signum, void (*handler)(int)) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    return sigaction(signum, &action, NULL);
}

/* Standard output flushed at every newline even when it is a file or a pipe (the C library
 * block-buffers it there), so logs of long runs fill as they go. */
static inline void prn_line_buffer_stdout(void) { setvbuf(stdout, NULL, _IOLBF, 0); }

/* A worker process dies with the process that started it, even when that one is SIGKILLed. */
static inline void prn_die_with_parent(void) {
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
}
