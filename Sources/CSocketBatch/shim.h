/* CSocketBatch: recvmmsg(2) for Swift. Glibc declares it only under _GNU_SOURCE, which Swift's Glibc
 * module is not built with, so the call is made here through syscall(2) with its own header type
 * (the same layout as the kernel's struct mmsghdr). */
#ifndef PACKETDTLS_CSOCKETBATCH_SHIM_H
#define PACKETDTLS_CSOCKETBATCH_SHIM_H

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* One datagram's header and, after the call, its length. */
struct packetdtls_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/* Up to `count` datagrams in one system call; returns how many arrived, or -1 with errno set. */
static inline int packetdtls_recvmmsg(int fd, struct packetdtls_mmsghdr *headers, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, headers, count, flags, (void *)0);
}

#endif
