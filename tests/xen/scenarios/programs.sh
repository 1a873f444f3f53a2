# The programs under test (build-images.sh -b BINDIR, copied to
# /opt/xenchan/bin, or -d DEBDIR, xenchan's package installed) load in dom0
# with the libraries the image carries.
. /xenchan/lib.sh

n=0
for p in "$XENCHAN_BIN"/xenchan*; do
	[ -x "$p" ] || continue
	n=$((n + 1))
	if out=$("$p" --version 2>&1); then
		ok "${p##*/} --version runs in dom0"
	else
		not_ok "${p##*/} --version runs in dom0"
		diag "$out"
	fi
done
[ $n -gt 0 ] || ok "# SKIP no programs under test in the image (no -b BINDIR or -d DEBDIR)"
