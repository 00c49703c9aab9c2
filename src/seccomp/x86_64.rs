//! x86_64: only the native 64-bit ABI. The kernel also takes i386 calls (`int 0x80`,
//! reported as AUDIT_ARCH_I386) and x32 calls (reported as AUDIT_ARCH_X86_64, told apart by
//! bit 30 of the number); both are refused, see the module above.

/// AUDIT_ARCH_X86_64: EM_X86_64 (62) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE, see <linux/audit.h>.
pub const AUDIT_ARCH: u32 = 0xc000_003e;

/// __X32_SYSCALL_BIT, see arch/x86/include/uapi/asm/unistd.h.
pub const X32_SYSCALL_BIT: Option<u32> = Some(0x4000_0000);

/// Calls only this architecture has, refused like the shared list: direct I/O port access,
/// loading a kernel from a file descriptor, and uselib (a.out libraries, CONFIG_USELIB).
pub const DENY: &[u32] = &[
    libc::SYS_iopl as u32,
    libc::SYS_ioperm as u32,
    libc::SYS_kexec_file_load as u32,
    libc::SYS_uselib as u32,
];

/// The index of this ABI's `SCMP_ARCH_` name in oci::ARCHES (X86_64).
pub const NATIVE: usize = 1;

/// The other ABIs an OCI profile may list (index of the `SCMP_ARCH_` name in oci::ARCHES: X86,
/// X32) with the AUDIT_ARCH their calls report; 0 stands for x32, whose calls report
/// AUDIT_ARCH_X86_64 with X32_SYSCALL_BIT set.
pub const COMPAT: &[(usize, u32)] = &[(0, 0x4000_0003), (2, 0)];
