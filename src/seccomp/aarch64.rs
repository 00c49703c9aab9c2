//! aarch64: only the native 64-bit ABI. 32-bit ARM calls (AArch32 compat) are reported as
//! AUDIT_ARCH_ARM and refused by the architecture check; there is no x32-like ABI.

/// AUDIT_ARCH_AARCH64: EM_AARCH64 (183) | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE, see <linux/audit.h>.
pub const AUDIT_ARCH: u32 = 0xc000_00b7;

pub const X32_SYSCALL_BIT: Option<u32> = None;

/// Calls only this architecture's list needs: kexec_file_load (294 in the generic table,
/// include/uapi/asm-generic/unistd.h), which the libc crate lacks for aarch64 musl.
pub const DENY: &[u32] = &[294];

/// The index of this ABI's `SCMP_ARCH_` name in oci::ARCHES (AARCH64).
pub const NATIVE: usize = 4;

/// The other ABI an OCI profile may list (index of the `SCMP_ARCH_` name in oci::ARCHES: ARM)
/// with the AUDIT_ARCH its calls report: AUDIT_ARCH_ARM, EM_ARM (40) | __AUDIT_ARCH_LE.
pub const COMPAT: &[(usize, u32)] = &[(3, 0x4000_0028)];
