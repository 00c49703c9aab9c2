#!/bin/busybox sh
# /init of the test VM's initramfs (built by tests/vm/run.sh): brings up the pseudo filesystems
# a bare system has, runs /checks.sh, and powers off. / stays the initramfs throughout, as on
# the systems that boot into one and run hutch there.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "HUTCH-BOOT $(cut -d' ' -f1 /proc/uptime)"
hostname testvm
sh /checks.sh
# Without this, /init exits, the kernel panics, and QEMU (-no-reboot, panic=-1) stops anyway.
poweroff -f
