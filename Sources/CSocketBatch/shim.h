/* CSocketBatch: the socket calls Swift cannot make comfortably.
 *
 * recvmmsg(2): Glibc declares it only under _GNU_SOURCE, which Swift's Glibc module is not built
 * with, so the call is made here through syscall(2) with its own header type (the same layout as the
 * kernel's struct mmsghdr).
 *
 * Control messages (cmsg): where a datagram was sent to (IP_PKTINFO / IPV6_PKTINFO) and how many the
 * socket's buffer dropped (SO_RXQ_OVFL) are read from a received header, and a reply is sent from the
 * address the client used. The pktinfo structures are declared under _GNU_SOURCE only too; their
 * layouts and the option numbers (fixed by the kernel's ABI) are repeated here under our own names.
 * No header beyond those above is included: a header first seen here would have its declarations
 * (IPPROTO_IP...) owned by this module, and vanish from Swift files that import only Glibc. */
#ifndef PACKETDTLS_CSOCKETBATCH_SHIM_H
#define PACKETDTLS_CSOCKETBATCH_SHIM_H

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PACKETDTLS_IPPROTO_IP 0
#define PACKETDTLS_IPPROTO_IPV6 41
#define PACKETDTLS_IP_PKTINFO 8
#define PACKETDTLS_IPV6_RECVPKTINFO 49
#define PACKETDTLS_IPV6_PKTINFO 50
#define PACKETDTLS_SO_RXQ_OVFL 40

/* One datagram's header and, after the call, its length. */
struct packetdtls_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/* Up to `count` datagrams in one system call; returns how many arrived, or -1 with errno set. */
static inline int packetdtls_recvmmsg(int fd, struct packetdtls_mmsghdr *headers, unsigned int count, int flags) {
    return (int)syscall(SYS_recvmmsg, fd, headers, count, flags, (void *)0);
}

/* The kernel's struct in_pktinfo and struct in6_pktinfo (addresses in network byte order). */
struct packetdtls_in_pktinfo {
    int ipi_ifindex;
    unsigned char ipi_spec_dst[4];
    unsigned char ipi_addr[4];
};
struct packetdtls_in6_pktinfo {
    unsigned char ipi6_addr[16];
    unsigned int ipi6_ifindex;
};

/* Room for both pktinfo messages and the drop count, with the kernel's alignment. */
#define PACKETDTLS_CONTROL_SPACE 128

/* The address a datagram was sent to: the source every reply to its sender must carry. */
struct packetdtls_local_address {
    int family;                /* AF_INET or AF_INET6; 0 when unknown */
    unsigned char address[16]; /* IPv4 in the first 4 bytes, or IPv6 */
    unsigned int interface_index;
};

/* What the control messages of one received datagram told. */
struct packetdtls_arrival {
    struct packetdtls_local_address destination;
    int has_drop_count;
    unsigned int drop_count; /* SO_RXQ_OVFL: datagrams the socket's buffer dropped since it opened */
};

/* Reads the control messages of a received header into *out (zeroed first). A broadcast or multicast
 * destination is not kept: a reply must come from a unicast address. */
static inline void packetdtls_read_arrival(const struct msghdr *header, struct packetdtls_arrival *out) {
    __builtin_memset(out, 0, sizeof *out);
    if (header->msg_control == 0 || (header->msg_flags & MSG_CTRUNC)) return;
    for (struct cmsghdr *message = CMSG_FIRSTHDR((struct msghdr *)header); message != 0;
         message = CMSG_NXTHDR((struct msghdr *)header, message)) {
        if (message->cmsg_level == PACKETDTLS_IPPROTO_IP && message->cmsg_type == PACKETDTLS_IP_PKTINFO
            && message->cmsg_len >= CMSG_LEN(sizeof(struct packetdtls_in_pktinfo))) {
            struct packetdtls_in_pktinfo info;
            __builtin_memcpy(&info, CMSG_DATA(message), sizeof info);
            const unsigned char *a = info.ipi_addr;
            if (a[0] >= 224 || (a[0] | a[1] | a[2] | a[3]) == 0) continue; /* multicast, broadcast, unknown */
            out->destination.family = AF_INET;
            __builtin_memcpy(out->destination.address, a, 4);
            out->destination.interface_index = (unsigned int)info.ipi_ifindex;
        } else if (message->cmsg_level == PACKETDTLS_IPPROTO_IPV6 && message->cmsg_type == PACKETDTLS_IPV6_PKTINFO
                   && message->cmsg_len >= CMSG_LEN(sizeof(struct packetdtls_in6_pktinfo))) {
            struct packetdtls_in6_pktinfo info;
            __builtin_memcpy(&info, CMSG_DATA(message), sizeof info);
            if (info.ipi6_addr[0] == 0xff) continue; /* multicast */
            out->destination.family = AF_INET6;
            __builtin_memcpy(out->destination.address, info.ipi6_addr, 16);
            out->destination.interface_index = info.ipi6_ifindex;
        } else if (message->cmsg_level == SOL_SOCKET && message->cmsg_type == PACKETDTLS_SO_RXQ_OVFL
                   && message->cmsg_len >= CMSG_LEN(sizeof(unsigned int))) {
            __builtin_memcpy(&out->drop_count, CMSG_DATA(message), sizeof out->drop_count);
            out->has_drop_count = 1;
        }
    }
}

/* Makes `header` (whose msg_name and msg_iov are set) send from `from` (ignored when it is NULL or its
 * family is 0): a pktinfo control message written into `control` (PACKETDTLS_CONTROL_SPACE bytes,
 * aligned for struct cmsghdr). Serves one datagram (packetdtls_sendto_from) and a batch (send_batch.h). */
static inline void packetdtls_set_reply_source(struct msghdr *header, void *control,
                                               const struct packetdtls_local_address *from) {
    header->msg_control = 0;
    header->msg_controllen = 0;
    if (from == 0 || (from->family != AF_INET && from->family != AF_INET6)) return;
    __builtin_memset(control, 0, PACKETDTLS_CONTROL_SPACE);
    header->msg_control = control;
    struct cmsghdr *message;
    if (from->family == AF_INET) {
        struct packetdtls_in_pktinfo info;
        __builtin_memset(&info, 0, sizeof info);
        __builtin_memcpy(info.ipi_spec_dst, from->address, 4);
        header->msg_controllen = CMSG_SPACE(sizeof info);
        message = CMSG_FIRSTHDR(header);
        message->cmsg_level = PACKETDTLS_IPPROTO_IP;
        message->cmsg_type = PACKETDTLS_IP_PKTINFO;
        message->cmsg_len = CMSG_LEN(sizeof info);
        __builtin_memcpy(CMSG_DATA(message), &info, sizeof info);
    } else {
        struct packetdtls_in6_pktinfo info;
        __builtin_memset(&info, 0, sizeof info);
        __builtin_memcpy(info.ipi6_addr, from->address, 16);
        info.ipi6_ifindex = from->interface_index;
        header->msg_controllen = CMSG_SPACE(sizeof info);
        message = CMSG_FIRSTHDR(header);
        message->cmsg_level = PACKETDTLS_IPPROTO_IPV6;
        message->cmsg_type = PACKETDTLS_IPV6_PKTINFO;
        message->cmsg_len = CMSG_LEN(sizeof info);
        __builtin_memcpy(CMSG_DATA(message), &info, sizeof info);
    }
}

/* sendto(2) with `from` as the datagram's source address (ignored when its family is 0). An IPv4
 * source also works on a dual-stack IPv6 socket sending to an IPv4-mapped address. */
static inline ssize_t packetdtls_sendto_from(int fd, const void *bytes, size_t length, int flags,
                                             const struct sockaddr *to, socklen_t to_length,
                                             const struct packetdtls_local_address *from) {
    union {
        char space[PACKETDTLS_CONTROL_SPACE];
        struct cmsghdr align;
    } control;
    struct iovec vector = { (void *)bytes, length };
    struct msghdr header;
    __builtin_memset(&header, 0, sizeof header);
    header.msg_name = (void *)to;
    header.msg_namelen = to_length;
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    packetdtls_set_reply_source(&header, control.space, from);
    return sendmsg(fd, &header, flags);
}

#include "send_batch.h"

#endif
