# bench/lib/postfix.sh: the benchmarks' private Postfix (sourced by bench/run.sh and bench/cold-env.sh).
# pf_configure writes $PF_DIR/etc/{master.cf,main.cf}: Debian's master.cf minus its port-25 listener, chroot off
# everywhere, smtpd on 127.0.0.1:$PF_PORT; relays relay.test, defer.test and wide.test to port 2600 (the sink's), queue and
# logs under $PF_DIR, messages up to 50 MB. Needs PF_DIR, PF_PORT and T (the run's temp dir) set.
pf_configure() {
  mkdir -p "$PF_DIR/etc" "$PF_DIR/data"
  # Debian's master.cf, minus its port-25 listener, with chroot off everywhere, plus our own listener.
  awk '
    /^#/ || /^[ \t]/ || NF < 8 { print; next }
    $1 == "smtp" && $2 == "inet" { next }
    { $5 = "n"; print }
    END { print "127.0.0.1:'"$PF_PORT"' inet n - n - - smtpd" }
  ' /etc/postfix/master.cf >"$PF_DIR/etc/master.cf"
  cat >"$PF_DIR/etc/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $PF_DIR/queue
data_directory = $PF_DIR/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
shlib_directory = /usr/lib/postfix
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = pf.bench.test
mydomain = bench.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains = relay.test, defer.test, wide.test
relay_recipient_maps =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtp_tcp_port = 2600
smtp_tls_security_level = may
maillog_file = $PF_DIR/maillog
maillog_file_prefixes = $T
biff = no
# Postfix's default limit (10,240,000 bytes) refuses a 10 MB message; MailCluster's default is 36 MB.
message_size_limit = 52428800
EOF
}
