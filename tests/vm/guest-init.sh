#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of the nvmeta VM lab guest (busybox ash). Installed by tests/vm/lab.
# The base initramfs holds this file, busybox, the nvme modules (/lab/modules,
# load order in /lab/modules/order) and the --file payload; a per-run cpio
# appended to it holds /lab/env (token, preset variables, cwd) and /lab/cmd
# (the command, shell-quoted). Results go to the serial console between
# marker lines that carry the run's token.

export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
/bin/busybox --install -s 2>/dev/null

. /lab/env
M="@@LAB:$LAB_TOKEN"
KPATTERN='WARNING|BUG|Oops|KASAN|general protection|Call Trace'
# The NVMe driver's own word that it timed out a command (and aborted it,
# reset or disabled the controller, or found the completion by polling),
# or reset the controller unasked.  A reset through sysfs (guest_edges
# asks for one) logs none of these.  Format strings of nvme.ko in 6.1
# ("I/O 5 QID 1 timeout, ...") and 6.12 on ("I/O tag 5 (0005) opcode 0x2
# (I/O Cmd) QID 1 timeout, ...").
NPATTERN='nvme[0-9]+: (I/O (tag )?[0-9]+ (.* )?QID [0-9]+ timeout, |Abort status: |controller is down; will reset|resetting controller due to|frozen state error detected, reset controller)'

say() { echo "$M:$*"; }
note() { echo "lab-guest: $*"; }
halt() { sync; poweroff -f; sleep 5; }
fail() { say "FAIL $*"; halt; }

# tmpfs on /tmp that keeps what the initramfs put there (--file /tmp/...).
mount_tmp() {
    mkdir -p /run/lab-tmp
    mount -t tmpfs -o mode=1777 tmpfs /run/lab-tmp
    cp -a /tmp/. /run/lab-tmp/
    mount -o move /run/lab-tmp /tmp || fail "cannot move the tmpfs onto /tmp"
    chmod 1777 /tmp
}

mount_fs() {
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev
    exec </dev/console >/dev/console 2>&1
    mkdir -p /dev/shm /dev/pts /tmp
    mount -t tmpfs -o mode=1777 tmpfs /dev/shm
    mount_tmp
    mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
        note "tracefs mount failed"
    if grep -qw debugfs /proc/filesystems; then
        mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null ||
            note "debugfs mount failed"
    fi
}

set_hugepages() {
    echo 32 >/proc/sys/vm/nr_hugepages 2>/dev/null
    note "nr_hugepages=$(cat /proc/sys/vm/nr_hugepages)"
}

# The module's parameters on the kernel command line (nvme.poll_queues=1
# gives "poll_queues=1" for nvme): the kernel leaves them to modprobe, and
# insmod does not read /proc/cmdline.
mod_params() {
    for w in $(cat /proc/cmdline); do
        case $w in "$1".*=*) echo "${w#"$1".}" ;; esac
    done
}

load_modules() {
    for m in $(cat /lab/modules/order); do
        # shellcheck disable=SC2046
        insmod "/lab/modules/$m.ko" $(mod_params "$(echo "$m" | tr - _)") ||
            fail "insmod $m failed"
    done
    # The host raises these (tests/vm/lab: nvme_core.io_timeout=,
    # admin_timeout=); the console shows what the driver took.
    note "nvme_core: io_timeout=$(cat /sys/module/nvme_core/parameters/io_timeout 2>/dev/null)" \
        "admin_timeout=$(cat /sys/module/nvme_core/parameters/admin_timeout 2>/dev/null)"
}

wait_for_dev() {
    i=0
    while [ ! -e "$NVMETA_DEV" ]; do
        i=$((i + 1))
        [ "$i" -gt 100 ] && fail "$NVMETA_DEV did not appear within 10 s"
        usleep 100000
    done
}

# With a second namespace (lab run --nometa-ns, lab bench), the names say
# nothing about which is which: the kernel scans namespaces asynchronously
# and numbers them as they come (on 6.12 under QEMU 7.2, nsid 2 became
# ng0n1).  Find each by its nsid, and point NVMETA_DEV at nsid 1 and
# NVMETA_NOMETA_DEV at nsid 2.
find_namespaces() {
    [ "${NVMETA_LAB_NAMESPACES:-1}" = 2 ] || return 0
    i=0
    while :; do
        ns1="" ns2=""
        for d in /sys/block/nvme[0-9]*n[0-9]*; do
            case ${d##*/} in *c*) continue ;; esac # a multipath path
            [ -r "$d/nsid" ] || continue
            case $(cat "$d/nsid") in
            1) ns1=/dev/ng${d##*/nvme} ;;
            2) ns2=/dev/ng${d##*/nvme} ;;
            esac
        done
        [ -n "$ns1" ] && [ -n "$ns2" ] && [ -e "$ns1" ] && [ -e "$ns2" ] && break
        i=$((i + 1))
        [ "$i" -gt 100 ] && fail "namespaces 1 and 2 did not both appear within 10 s"
        usleep 100000
    done
    export NVMETA_DEV="$ns1" NVMETA_NOMETA_DEV="$ns2"
    note "nsid 1: $ns1, nsid 2 (no metadata): $ns2"
}

# Print the captured output between markers; the extra newline lets the
# host restore the output byte for byte (it drops the last newline).
report() {
    old=$(cat /proc/sys/kernel/printk)
    echo 1 >/proc/sys/kernel/printk # keep printk off the console meanwhile
    say OUT-BEGIN
    cat /lab/out
    echo
    say OUT-END
    say "RC $1"
    say KLOG-BEGIN
    dmesg | grep -E "$KPATTERN"
    say KLOG-END
    say NVME-BEGIN
    dmesg | grep -E "$NPATTERN"
    say NVME-END
    echo "$old" >/proc/sys/kernel/printk
}

mount_fs
say INIT "$(cut -d' ' -f1 /proc/uptime)"
set_hugepages
load_modules
wait_for_dev
find_namespaces
# lab-monitor WORDS: ask the host to give WORDS to QEMU's monitor (the
# host passes only "device_del ID", and "device_add ID" of a device it
# made).  Straight to the console, as the command's own output reaches
# it late: busybox sed buffers it.
printf '#!/bin/sh\necho "%s:MONITOR $*" >/dev/console\n' "$M" >/bin/lab-monitor
chmod 0755 /bin/lab-monitor
cd "$LAB_CWD" 2>/dev/null || cd /
eval "set -- $(cat /lab/cmd)"
say CMD-START "$(cut -d' ' -f1 /proc/uptime)"
# The output also goes to the console as it comes, each line marked LIVE,
# so what a command printed survives a guest that dies under it.
{ "$@" </dev/null; echo $? >/lab/rc; } 2>&1 | tee /lab/out | sed "s/^/$M:LIVE /"
report "$(cat /lab/rc)"
halt
