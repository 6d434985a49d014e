/*
 * bcryptprimitives.dll for Wine 8.0, which has none.
 *
 * Go's Windows runtime (Go >= 1.22) gets its random bytes from ProcessPrng
 * in bcryptprimitives.dll and stops at start when the DLL is missing, so no
 * Go .exe runs under Debian's Wine 8.0. This one exports ProcessPrng on
 * advapi32's SystemFunction036 (RtlGenRandom), which Wine has. It is built
 * and installed into a private Wine prefix by scripts/wine.sh, for tests
 * only; it is never shipped.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	while (length > 0) {
		ULONG n = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, n))
			return FALSE;
		data += n;
		length -= n;
	}
	return TRUE;
}
