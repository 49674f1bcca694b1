/* The kernel's struct tcp_info, read where glibc's older copy of it (netinet/tcp.h, which other
 * headers bring in) cannot clash with linux/tcp.h. */
#ifndef MEASURED_TCPINFO_H
#define MEASURED_TCPINFO_H

#include "sockdiag.h"

#include <stddef.h>

/* Fills the tcp_info fields of out from the kernel's struct (len bytes: an older kernel's is
 * shorter, a newer one's longer; what is missing reads 0). */
void tcpinfo_copy(const void *data, size_t len, struct tcp_sock *out);

#endif
