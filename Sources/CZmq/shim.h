#include <zmq.h>
#include <errno.h>

/* errno as a function: Swift cannot read the C macro directly on every platform. */
static inline int prn_zmq_errno(void) { return zmq_errno(); }
