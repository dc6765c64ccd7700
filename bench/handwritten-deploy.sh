#!/bin/sh
# The baseline: what a careful operator would write by hand to do what one `alcaide deploy`
# does, with plain ssh (one multiplexed connection, ControlMaster) and no orchestration:
# upload, build in the build jail, fresh slot jail from the template, install, environment,
# start, migrations, health on the slot address, open/close the gates, wait for Caddy, drain,
# stop the old slot. No checks before acting, no retries, no undo: the happy path only.
#
# usage: handwritten-deploy.sh APP_DIR COMMIT SLOT [OLD_SLOT]
# env:   HOST KEY KNOWN_HOSTS CONTROL_DIR [DRAIN=2]
set -eu
app_dir=$1 version=$2 slot=$3 old=${4:-}
case $slot in blue) ip=10.0.0.2 ;; green) ip=10.0.0.3 ;; *) echo "bad slot $slot" >&2; exit 2 ;; esac
jail=hello_$slot
root=/usr/local/jails/$jail
build=/usr/local/jails/hello_build
r() {
	ssh -F /dev/null -i "$KEY" -o UserKnownHostsFile="$KNOWN_HOSTS" -o GlobalKnownHostsFile=/dev/null \
		-o StrictHostKeyChecking=yes -o BatchMode=yes -o IdentitiesOnly=yes -o LogLevel=ERROR \
		-o ControlMaster=auto -o ControlPath="$CONTROL_DIR/cm" -o ControlPersist=120 "root@$HOST" "$@"
}

# 1. upload the source
git -C "$app_dir" archive --format=tar "$version" | r "mkdir -p $build/usr/local/alcaide/src && cat > $build/usr/local/alcaide/src/$version.tar"

# 2. build the release in the build jail
r "jexec hello_build /bin/sh -s" <<EOF
set -e
export MIX_ENV=prod LANG=C.UTF-8 HOME=/root
mkdir -p /usr/local/alcaide/build/hello /usr/local/alcaide/artifacts
cd /usr/local/alcaide/build/hello
find . -mindepth 1 -maxdepth 1 ! -name deps ! -name _build -exec rm -rf {} +
tar -xf /usr/local/alcaide/src/$version.tar
rm -rf /usr/local/alcaide/releases/$version
mix do deps.get --only prod + compile + assets.deploy + release hello --overwrite --path /usr/local/alcaide/releases/$version
tar -czf /usr/local/alcaide/artifacts/hello-$version.tar.gz -C /usr/local/alcaide/releases/$version .
rm -rf /usr/local/alcaide/releases/$version
EOF

# 3. a fresh slot jail from the template
r "if jls -j $jail jid >/dev/null 2>&1; then jail -f /etc/jail.conf.d/$jail.conf -r $jail; fi
for m in \$(mount -p | awk -v p=$root/ 'index(\$2, p) == 1 { print \$2 }' | sort -r); do umount -f \"\$m\"; done
if [ -e $root ]; then chflags -R noschg $root && rm -rf $root; fi
cat > /etc/jail.conf.d/$jail.conf <<'CONF'
$jail {
  path = \"$root\";
  host.hostname = \"$jail\";
  ip4.addr = \"lo1|$ip/32\";
  mount.devfs;
  devfs_ruleset = 4;
  exec.clean;
  exec.start = \"/bin/sh /etc/rc\";
  exec.stop = \"/bin/sh /etc/rc.shutdown jail\";
  exec.consolelog = \"/var/log/jail_console_$jail.log\";
  persist;
}
CONF
mkdir -p $root && tar -cf - -C /usr/local/jails/templates/14.3-RELEASE . | tar -xpf - -C $root
cp /etc/resolv.conf $root/etc/resolv.conf
jail -f /etc/jail.conf.d/$jail.conf -c $jail
sysrc -q jail_enable=YES >/dev/null && sysrc -q jail_list+=$jail >/dev/null"

# 4. install the release, its runner and rc.d script; 5. the environment
r "mkdir -p $root/usr/local/hello $root/usr/local/libexec $root/usr/local/etc/rc.d
tar -xzf $build/usr/local/alcaide/artifacts/hello-$version.tar.gz -C $root/usr/local/hello
cat > $root/usr/local/libexec/hello-run <<'RUN'
#!/bin/sh
set -a
. /usr/local/etc/hello.env
set +a
cd /usr/local/hello
exec /usr/local/hello/bin/hello start
RUN
cat > $root/usr/local/etc/rc.d/hello <<'RC'
#!/bin/sh
# PROVIDE: hello
# REQUIRE: LOGIN NETWORKING
# KEYWORD: shutdown
. /etc/rc.subr
name=hello
rcvar=hello_enable
load_rc_config \$name
: \${hello_enable:=NO}
pidfile=/var/run/hello_supervisor.pid
child_pidfile=/var/run/hello.pid
procname=/usr/sbin/daemon
command=/usr/sbin/daemon
command_args=\"-f -r -P \${pidfile} -p \${child_pidfile} -o /var/log/hello.log -t hello /usr/local/libexec/hello-run\"
run_rc_command \"\$1\"
RC
chmod 0755 $root/usr/local/libexec/hello-run $root/usr/local/etc/rc.d/hello
sysrc -f $root/etc/rc.conf hello_enable=YES >/dev/null
umask 077
cat > $root/usr/local/etc/hello.env <<ENV
PHX_SERVER=true
PORT=4000
LANG=C.UTF-8
RELEASE_DISTRIBUTION=name
RELEASE_NODE=hello_$slot@$ip
ALCAIDE_SLOT=$slot
ALCAIDE_VERSION=$version
ENV"

# 6. start; 7. migrations
r "service -j $jail hello start"
r "jexec -l $jail /bin/sh -c 'set -a && . /usr/local/etc/hello.env && set +a && cd /usr/local/hello && exec /usr/local/hello/bin/hello eval \"Hello.Release.migrate()\"'" >/dev/null

# 8. health on the slot's own address (curl on the host; FreeBSD would use fetch -qo -)
r "i=0; until curl -fs -o /dev/null http://$ip:4000/health; do i=\$((i+1)); [ \$i -lt 150 ] || exit 1; sleep 0.2; done"

# 9. switch: open the new gate, close the old one, wait until Caddy routes to the new slot
r "mkdir -p /var/db/alcaide/hello/gates && touch /var/db/alcaide/hello/gates/$slot.open ${old:+&& rm -f /var/db/alcaide/hello/gates/$old.open}
echo $slot > /var/db/alcaide/hello/active
i=0; until [ \"\$(curl -fsi http://127.0.0.1/health | tr -d '\r' | awk -F': ' 'tolower(\$1) == \"alcaide-slot\" { print \$2 }')\" = $slot ]; do i=\$((i+1)); [ \$i -lt 300 ] || exit 1; sleep 0.05; done"

# 10. drain, then stop the old slot (kept for rollback)
if [ -n "$old" ]; then
	sleep "${DRAIN:-2}"
	r "service -j hello_$old hello onestop; jail -f /etc/jail.conf.d/hello_$old.conf -r hello_$old; sysrc -q jail_list-=hello_$old >/dev/null"
fi
