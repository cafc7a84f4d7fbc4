/* CSocketBatch/send_batch.h: many datagrams out in one system call (sendmmsg(2)), for a UDPServer's
 * send batching (Sources/PacketDTLS/UDP/SendBatch.swift).
 *
 * As with recvmmsg in shim.h, Glibc declares sendmmsg only under _GNU_SOURCE, so the call goes through
 * syscall(2) with struct packetdtls_mmsghdr. Each datagram may carry its own source address (an
 * IP_PKTINFO / IPV6_PKTINFO control message, as packetdtls_sendto_from in shim.h). */
#ifndef PACKETDTLS_CSOCKETBATCH_SEND_BATCH_H
#define PACKETDTLS_CSOCKETBATCH_SEND_BATCH_H

#include "shim.h"

/* One queued datagram: its bytes in the batch's arena, where it goes and where from. */
struct packetdtls_send_slot {
    struct sockaddr_storage to;
    socklen_t to_length;
    struct packetdtls_local_address from; /* family 0: the kernel chooses */
    size_t offset;                        /* into the arena */
    size_t length;
};

/* The system-call side of a batch: headers, vectors and control space for `capacity` datagrams. */
struct packetdtls_send_space {
    struct packetdtls_mmsghdr *headers;
    struct iovec *vectors;
    char *controls; /* PACKETDTLS_CONTROL_SPACE bytes per datagram, aligned as struct cmsghdr */
};

/* Fills one header for `slot`. */
static inline void packetdtls_send_header(struct packetdtls_mmsghdr *header, struct iovec *vector, char *control,
                                          unsigned char *arena, struct packetdtls_send_slot *slot) {
    __builtin_memset(header, 0, sizeof *header);
    vector->iov_base = arena + slot->offset;
    vector->iov_len = slot->length;
    header->msg_hdr.msg_name = &slot->to;
    header->msg_hdr.msg_namelen = slot->to_length;
    header->msg_hdr.msg_iov = vector;
    header->msg_hdr.msg_iovlen = 1;
    if (slot->from.family == AF_INET) {
        struct packetdtls_in_pktinfo info;
        __builtin_memset(&info, 0, sizeof info);
        __builtin_memcpy(info.ipi_spec_dst, slot->from.address, 4);
        __builtin_memset(control, 0, PACKETDTLS_CONTROL_SPACE);
        header->msg_hdr.msg_control = control;
        header->msg_hdr.msg_controllen = CMSG_SPACE(sizeof info);
        struct cmsghdr *message = CMSG_FIRSTHDR(&header->msg_hdr);
        message->cmsg_level = PACKETDTLS_IPPROTO_IP;
        message->cmsg_type = PACKETDTLS_IP_PKTINFO;
        message->cmsg_len = CMSG_LEN(sizeof info);
        __builtin_memcpy(CMSG_DATA(message), &info, sizeof info);
    } else if (slot->from.family == AF_INET6) {
        struct packetdtls_in6_pktinfo info;
        __builtin_memset(&info, 0, sizeof info);
        __builtin_memcpy(info.ipi6_addr, slot->from.address, 16);
        info.ipi6_ifindex = slot->from.interface_index;
        __builtin_memset(control, 0, PACKETDTLS_CONTROL_SPACE);
        header->msg_hdr.msg_control = control;
        header->msg_hdr.msg_controllen = CMSG_SPACE(sizeof info);
        struct cmsghdr *message = CMSG_FIRSTHDR(&header->msg_hdr);
        message->cmsg_level = PACKETDTLS_IPPROTO_IPV6;
        message->cmsg_type = PACKETDTLS_IPV6_PKTINFO;
        message->cmsg_len = CMSG_LEN(sizeof info);
        __builtin_memcpy(CMSG_DATA(message), &info, sizeof info);
    }
}

/* Sends slots[0..<count] (count <= the space's capacity, at most 1024, the kernel's UIO_MAXIOV) in one
 * sendmmsg, with MSG_NOSIGNAL (named here: a Swift file that imports this module and names it makes it
 * vanish from files that import only Glibc). Returns how many left (the first ones, in order), or -1
 * with errno set when the first failed. */
static inline int packetdtls_sendmmsg_slots(int fd, unsigned char *arena, struct packetdtls_send_slot *slots,
                                            unsigned int count, struct packetdtls_send_space space) {
    for (unsigned int i = 0; i < count; i++) {
        packetdtls_send_header(&space.headers[i], &space.vectors[i], space.controls + (size_t)i * PACKETDTLS_CONTROL_SPACE,
                               arena, &slots[i]);
    }
    return (int)syscall(SYS_sendmmsg, fd, space.headers, count, MSG_NOSIGNAL);
}

#endif
