# Guest half of scenarios/first-boot.sh: a guest whose agent never answers
# (see first-boot.sh).
first_boot_stuck=1
. /guest/first-boot.sh
