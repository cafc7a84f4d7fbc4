// header_cxx.cpp — the public headers compile as strict C++17 (-pedantic-errors -Wall -Wextra
// -Werror), packetdtls.h inside extern "C" so the names link unmangled, packetdtls.hpp once it exists.
#include "packetdtls.h"
#if defined(PACKETDTLS_HAVE_HPP)
#include "packetdtls.hpp"
#endif

#include <cstdio>
#include <cstring>

int main() {
    if (dtls_version_number() != DTLS_VERSION_NUMBER) {
        std::fprintf(stderr, "header and library versions differ\n");
        return 1;
    }
    if (std::strcmp(dtls_error_string(DTLS_OK), "OK") != 0) {
        std::fprintf(stderr, "dtls_error_string(DTLS_OK) is not \"OK\"\n");
        return 1;
    }
    std::printf("header_cxx: packetdtls.h%s is C++17\n",
#if defined(PACKETDTLS_HAVE_HPP)
                " and packetdtls.hpp"
#else
                ""
#endif
    );
    return 0;
}
