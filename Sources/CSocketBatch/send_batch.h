/* CSocketBatch/send_batch.h: sendmmsg(2), several datagrams in one system call.
 *
 * As with recvmmsg in shim.h, Glibc declares sendmmsg only under _GNU_SOURCE, which Swift's Glibc
 * module is not built with: the call goes through syscall(2) with shim.h's header type (the layout
 * of the kernel's struct mmsghdr). One small wrapper in its own file, for any sender that batches. Included at the
 * end of shim.h, whose types it uses: a second header in the module map made Glibc's MSG_* constants
 * vanish from Swift files importing only Glibc. */
#ifndef PACKETDTLS_CSOCKETBATCH_SEND_BATCH_H
#define PACKETDTLS_CSOCKETBATCH_SEND_BATCH_H


/* Sends up to `count` datagrams, each its header's, in one system call; returns how many were sent
 * (the first ones: a failure stops the batch there), or -1 with errno set when the first failed. */
static inline int packetdtls_sendmmsg(int fd, struct packetdtls_mmsghdr *headers, unsigned int count, int flags) {
    return (int)syscall(SYS_sendmmsg, fd, headers, count, flags);
}

/* Makes `header` (whose msg_name and msg_iov are set) send from `from` (ignored when its family is
 * 0): a pktinfo control message written into `control` (PACKETDTLS_CONTROL_SPACE bytes, aligned for
 * struct cmsghdr), as packetdtls_sendto_from does for one datagram. */
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

#endif
