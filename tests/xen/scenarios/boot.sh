# Xen and dom0's toolstack are up: xl sees Domain-0, xenstored answers.
. /xenchan/lib.sh
check "xl list shows Domain-0" sh -c 'xl list | grep -q "^Domain-0 "'
check "xenstored answers for dom0" test "$(xenstore-read /local/domain/0/name)" = Domain-0
diag "xen-utils $XEN_VERSION, qemu-system-xen $QEMU_VERSION"
diag "$(xl info | grep -E '^(xen_version|xen_caps|nr_cpus|total_memory|free_memory)')"
