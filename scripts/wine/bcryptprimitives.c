/*
 * bcryptprimitives.c: the one export of bcryptprimitives.dll that Go's
 * Windows runtime needs at start-up (ProcessPrng, since Go 1.22), for Wine
 * releases that do not ship the DLL (Debian 12's Wine 8.0). Without it every
 * Go program there dies with "bcryptprimitives.dll not found" before main.
 * scripts/test-windows.sh builds it with MinGW-w64 into the Wine prefix only;
 * it never reaches a Windows machine, which has the real DLL.
 *
 * The randomness is Wine's own: BCryptGenRandom with the system RNG, which
 * takes a ULONG length, so larger requests go in pieces.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
