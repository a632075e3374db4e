# shellcheck shell=bash
# Sourced by scripts/run and scripts/test. `minime_database` makes sure DATABASE_URL holds a
# PostgreSQL superuser login: the caller's own DATABASE_URL wins; without one, a private cluster is
# created and started for this checkout, so minime needs no system-wide database setup.
#
# Variables:
#   DATABASE_URL        use this server as it is (only checked for reachability)
#   MINIME_PG_PORT      port of the private cluster (default: this checkout's running cluster, else
#                       the first free port from 55432); each port is a cluster of its own
#   MINIME_PG_DATABASE  database to create and use (default minime)
#   MINIME_PG_FAST=1    fsync off, for throwaway test data (scripts/test sets it)
#
# Where the private cluster lives: <repo>/.data/postgres/<port>/ holds data/ (the cluster),
# socket/ (its Unix socket) and server.log. It listens on 127.0.0.1 only and trusts every local
# login, like a development database should; it keeps running after the scripts end, so the next
# call reuses it. Stop it with: pg_ctl -D <repo>/.data/postgres/<port>/data stop
#
# As root: PostgreSQL refuses to run as root, so the server runs as the `postgres` system user. When
# that user cannot reach <repo>/.data (a checkout under /root, say), the cluster goes to that user's
# home instead: /var/lib/postgresql/minime-<hash of the repo path>/<port>/. Not /var/tmp, whose old
# files systemd-tmpfiles deletes, and not XDG_DATA_HOME, which for root is under /root as well.
# The location is printed on every call.

_minime_pg_say() {
    printf 'minime: %s\n' "$*" >&2
}

# Runs a server program as the cluster's owner: ourselves, or `postgres` when we are root.
# From / so that a working directory the postgres user cannot enter does not matter.
_minime_pg_as_owner() {
    if [[ $EUID -eq 0 ]]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# Prints the folder of the server programs (initdb, pg_ctl, postgres); fails when there is none.
_minime_pg_bindir() {
    local dir candidate
    if command -v pg_config >/dev/null 2>&1; then
        dir=$(pg_config --bindir 2>/dev/null || true)
        if [[ -n $dir && -x $dir/initdb && -x $dir/pg_ctl ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # Debian keeps each major version under /usr/lib/postgresql/<major>/bin; take the newest.
    dir=
    while IFS= read -r candidate; do
        if [[ -x $candidate/initdb && -x $candidate/pg_ctl ]]; then
            dir=$candidate
        fi
    done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V)
    if [[ -n $dir ]]; then
        printf '%s\n' "$dir"
        return 0
    fi
    # Last resort: whatever is on PATH, followed through symlinks to the real programs.
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dir=$(dirname "$(readlink -f "$(command -v initdb)")")
        if [[ -x $dir/pg_ctl ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    return 1
}

_minime_pg_install() {
    local sudo=()
    if ! command -v apt-get >/dev/null 2>&1; then
        _minime_pg_say "PostgreSQL's server programs (initdb, pg_ctl) were not found: install PostgreSQL, or set DATABASE_URL to a superuser login"
        return 1
    fi
    if [[ $EUID -ne 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1; then
            _minime_pg_say "PostgreSQL is not installed and installing it needs root: run 'apt-get install postgresql' as root, or set DATABASE_URL"
            return 1
        fi
        sudo=(sudo)
    fi
    _minime_pg_say "PostgreSQL's server programs were not found: installing Debian's postgresql package (apt-get install postgresql)"
    ${sudo[@]+"${sudo[@]}"} apt-get update -q &&
        ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
}

# Prints the folder that holds the cluster of this checkout and port, creating it.
_minime_pg_area() {
    local root=$1 port=$2 home hash area=$1/.data/postgres/$2
    if [[ $EUID -ne 0 ]]; then
        mkdir -p "$area" || return 1
        printf '%s\n' "$area"
        return 0
    fi
    # umask 022 so that the postgres user can pass through the folders we create on its way.
    if (cd / && runuser -u postgres -- test -x "$root") &&
        (umask 022 && mkdir -p "$area") &&
        chown postgres: "$area" &&
        (cd / && runuser -u postgres -- test -w "$area" -a -x "$area"); then
        printf '%s\n' "$area"
        return 0
    fi
    home=$(getent passwd postgres | cut -d: -f6)
    home=${home:-/var/lib/postgresql}
    if [[ ! -d $home ]]; then
        (umask 022 && mkdir -p "$home") && chown postgres: "$home" || return 1
    fi
    hash=$(printf '%s' "$root" | sha256sum | cut -c1-12)
    area=$home/minime-$hash/$port
    (cd / && runuser -u postgres -- mkdir -p "$area") || return 1
    printf '%s\n' "$area"
}

# True when a postmaster is alive for this data folder. A postmaster.pid left by a crash may name
# a process id that now belongs to something else; that file is removed so the start goes ahead.
_minime_pg_running() {
    local data=$1 sock=$2 port=$3 pid stat state comm cwd
    [[ -f $data/postmaster.pid ]] || return 1
    read -r pid <"$data/postmaster.pid" || pid=
    # kill -0 also fails for a live process of another user; /proc tells those apart.
    if [[ $pid =~ ^[0-9]+$ ]] && { kill -0 "$pid" 2>/dev/null || [[ -d /proc/$pid ]]; }; then
        if [[ ! -d /proc/$pid ]]; then
            return 0 # no /proc to tell more: believe the file
        fi
        # A killed postmaster may linger as a zombie until it is reaped.
        stat=$(cat "/proc/$pid/stat" 2>/dev/null || true)
        state=${stat##*) }
        state=${state%% *}
        comm=$(cat "/proc/$pid/comm" 2>/dev/null || true)
        cwd=$(readlink "/proc/$pid/cwd" 2>/dev/null || true)
        # A postmaster works in its data folder; when that is unreadable, believe the name.
        if [[ $state != [ZX] ]] && [[ $comm == postgres || $comm == postmaster ]] &&
            { [[ -z $cwd ]] || [[ $cwd == "$(cd "$data" && pwd -P)" ]]; }; then
            return 0
        fi
    fi
    # PostgreSQL itself discards lock files of dead processes, but not of reused process ids.
    rm -f "$data/postmaster.pid" "$sock/.s.PGSQL.$port.lock"
    return 1
}

_minime_pg_ready() {
    local bindir=$1 port=$2 tries=${3:-1} pg_isready=$1/pg_isready
    [[ -x $pg_isready ]] || pg_isready=pg_isready
    while ((tries > 0)); do
        if "$pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 5; then
            return 0
        fi
        tries=$((tries - 1))
        ((tries == 0)) || sleep 0.5
    done
    return 1
}

_minime_pg_initdb() {
    local bindir=$1 area=$2 data=$2/data locale=C
    if [[ -e $data ]] && [[ -n $(ls -A "$data" 2>/dev/null) ]]; then
        _minime_pg_say "$data is not empty but holds no cluster: remove it and try again"
        return 1
    fi
    # C.UTF-8 sorts by code point on every machine; plain C when this system lacks it.
    if locale -a 2>/dev/null | tr '[:upper:]' '[:lower:]' | tr -d '-' | grep -x 'c\.utf8' >/dev/null; then
        locale=C.UTF-8
    fi
    _minime_pg_say "creating a private PostgreSQL cluster in $data"
    if ! _minime_pg_as_owner "$bindir/initdb" -D "$data" --auth=trust --username=postgres \
        --encoding=UTF8 --locale="$locale" >"$area/initdb.log" 2>&1; then
        cat "$area/initdb.log" >&2
        _minime_pg_say "initdb failed (output above, also in $area/initdb.log)"
        return 1
    fi
    # Our settings live in files of their own, rewritten by every call.
    printf '\n%s\n%s\n%s\n' "# minime's private cluster: settings from scripts/lib/postgres.sh" \
        "include = 'minime.conf'" "include = 'minime-fast.conf'" |
        _minime_pg_as_owner tee -a "$data/postgresql.conf" >/dev/null
}

# Writes minime.conf; read at the next start.
_minime_pg_configure() {
    local data=$1 sock=$2 port=$3 sockets
    # A Unix socket path has at most 107 bytes; past that the cluster does with TCP alone.
    if ((${#sock} + ${#port} + 10 <= 107)); then
        sockets=${sock//\'/\'\'}
    else
        sockets=
    fi
    _minime_pg_as_owner tee "$data/minime.conf" >/dev/null <<EOF
# Written by scripts/lib/postgres.sh at every start: edit that script instead.
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$sockets'
unix_socket_permissions = 0700
shared_buffers = 128MB
max_connections = 200
EOF
}

# Fast mode skips fsync: a crash of the machine may then lose or corrupt data, which is fine for
# test databases that are made afresh each run, and never acceptable for the data of scripts/run.
_minime_pg_fast_conf() { # data on|off
    if [[ $2 == on ]]; then
        _minime_pg_as_owner tee "$1/minime-fast.conf" >/dev/null <<EOF
# Written by scripts/lib/postgres.sh for MINIME_PG_FAST=1; any other call turns it off again.
fsync = off
full_page_writes = off
synchronous_commit = off
EOF
    else
        printf '%s\n' "# Fast mode (MINIME_PG_FAST=1) is off; see scripts/lib/postgres.sh." |
            _minime_pg_as_owner tee "$1/minime-fast.conf" >/dev/null
    fi
}

_minime_pg_is_fast() {
    grep -x 'fsync = off' "$1/minime-fast.conf" >/dev/null 2>&1
}

# Starts the cluster if need be and creates the database. Called with the cluster's lock held.
_minime_pg_up() {
    local bindir=$1 area=$2 port=$3 db=$4 data=$2/data sock=$2/socket log=$2/server.log
    local psql=$bindir/psql exists tries
    [[ -x $psql ]] || psql=psql

    if [[ ! -s $data/PG_VERSION ]]; then
        _minime_pg_initdb "$bindir" "$area" || return 1
    fi

    if _minime_pg_running "$data" "$sock" "$port"; then
        if ! _minime_pg_ready "$bindir" "$port" 120; then
            _minime_pg_say "the private cluster in $data runs but does not answer on 127.0.0.1:$port; see $log"
            return 1
        fi
        # Reused by a caller that needs durable data: switch fsync back on, then flush what was
        # written without it.
        if [[ ${MINIME_PG_FAST:-0} != 1 ]] && _minime_pg_is_fast "$data"; then
            _minime_pg_fast_conf "$data" off || return 1
            _minime_pg_as_owner "$bindir/pg_ctl" -D "$data" reload >/dev/null || return 1
            for ((tries = 0; tries < 50; tries++)); do
                [[ $("$psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc 'show fsync') == on ]] && break
                sleep 0.1
            done
            sync
        fi
    else
        _minime_pg_as_owner mkdir -p -m 700 "$sock" || return 1
        _minime_pg_configure "$data" "$sock" "$port" || return 1
        if [[ ${MINIME_PG_FAST:-0} == 1 ]]; then
            _minime_pg_fast_conf "$data" on || return 1
        elif _minime_pg_is_fast "$data"; then
            _minime_pg_fast_conf "$data" off || return 1
            sync # files written without fsync by an earlier fast run
        else
            _minime_pg_fast_conf "$data" off || return 1
        fi
        # 9>&-: a postmaster holding the setup lock's descriptor would hold the lock forever.
        if ! _minime_pg_as_owner "$bindir/pg_ctl" -D "$data" -l "$log" -w -t 120 start >/dev/null 9>&-; then
            tail -n 20 "$log" >&2 2>/dev/null
            _minime_pg_say "the private PostgreSQL cluster did not start (log above, in $log); if port $port is taken, choose another with MINIME_PG_PORT"
            return 1
        fi
        if ! _minime_pg_ready "$bindir" "$port" 20; then
            _minime_pg_say "the private cluster started but does not answer on 127.0.0.1:$port; see $log"
            return 1
        fi
    fi

    exists=$("$psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
        "select 1 from pg_database where datname = '$db'") || return 1
    if [[ $exists != 1 ]]; then
        "$psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
            -c "create database \"$db\"" >/dev/null || return 1
    fi
}

# Whether something answers on 127.0.0.1:PORT.
_minime_pg_port_taken() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The folder of this checkout's cluster for PORT, if one was ever made (no folder is created).
_minime_pg_known_area() { # root port
    local home hash area
    for area in "$1/.data/postgres/$2" ""; do
        if [[ -z $area ]]; then
            home=$(getent passwd postgres 2>/dev/null | cut -d: -f6)
            hash=$(printf '%s' "$1" | sha256sum | cut -c1-12)
            area=${home:-/var/lib/postgresql}/minime-$hash/$2
        fi
        if [[ -s $area/data/PG_VERSION ]]; then
            printf '%s\n' "$area"
            return 0
        fi
    done
    return 1
}

# Without MINIME_PG_PORT: this checkout's cluster where it already runs or can start, else the
# first free port from 55432 on, so that a second checkout (or another program on 55432) does
# not stop this one.
_minime_pg_pick_port() { # root
    local candidate area
    for candidate in $(seq 55432 55451); do
        if area=$(_minime_pg_known_area "$1" "$candidate") &&
            { _minime_pg_running "$area/data" "$area/socket" "$candidate" || ! _minime_pg_port_taken "$candidate"; }; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    for candidate in $(seq 55432 55451); do
        if ! _minime_pg_port_taken "$candidate"; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    printf '%s\n' 55432
}

minime_database() {
    local root port db bindir area version pg_ctl_version rc=0 shown
    if [[ -n ${DATABASE_URL:-} ]]; then
        shown=${DATABASE_URL#*://}
        shown=${shown##*@} # never print a password
        shown=${shown%%\?*}
        if command -v pg_isready >/dev/null 2>&1 && ! pg_isready -q -t 10 -d "$DATABASE_URL"; then
            _minime_pg_say "DATABASE_URL is set, but no PostgreSQL answers at $shown"
            return 1
        fi
        export DATABASE_URL
        _minime_pg_say "database: $shown (from DATABASE_URL)"
        return 0
    fi

    root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P) || return 1
    port=${MINIME_PG_PORT:-$(_minime_pg_pick_port "$root")}
    db=${MINIME_PG_DATABASE:-minime}
    if ! [[ $port =~ ^[0-9]+$ ]] || ((port < 1024 || port > 65535)); then
        _minime_pg_say "MINIME_PG_PORT must be a port number from 1024 to 65535, not '$port'"
        return 1
    fi
    # Plain names only, so they need no quoting in SQL or in the URL.
    if ! [[ $db =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
        _minime_pg_say "MINIME_PG_DATABASE must be lowercase letters, digits and _, not '$db'"
        return 1
    fi

    if ! bindir=$(_minime_pg_bindir); then
        _minime_pg_install || return 1
        bindir=$(_minime_pg_bindir) || {
            _minime_pg_say "PostgreSQL was installed, but initdb and pg_ctl are still not found"
            return 1
        }
    fi
    if [[ $EUID -eq 0 ]]; then
        if ! command -v runuser >/dev/null 2>&1; then
            _minime_pg_say "running as root needs runuser (util-linux) to start PostgreSQL as the postgres user"
            return 1
        fi
        if ! id -u postgres >/dev/null 2>&1; then
            _minime_pg_say "creating the postgres system user (PostgreSQL does not run as root)"
            useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres || return 1
        fi
    fi
    area=$(_minime_pg_area "$root" "$port") || {
        _minime_pg_say "could not create a folder for the private PostgreSQL cluster (tried $root/.data/postgres)"
        return 1
    }

    # A cluster made by another major version needs that version's programs.
    if [[ -s $area/data/PG_VERSION ]]; then
        version=$(<"$area/data/PG_VERSION")
        pg_ctl_version=$("$bindir/pg_ctl" --version) # "pg_ctl (PostgreSQL) 15.20 (Debian ...)"
        if [[ $pg_ctl_version != *") $version."* && $pg_ctl_version != *") $version" ]]; then
            if [[ -x /usr/lib/postgresql/$version/bin/pg_ctl ]]; then
                bindir=/usr/lib/postgresql/$version/bin
            else
                _minime_pg_say "the cluster in $area/data was made by PostgreSQL $version, which is not installed: install it, or remove $area to start afresh (its data is lost)"
                return 1
            fi
        fi
    fi

    # One caller at a time sets the cluster up (scripts/run and scripts/test may start together).
    # The lock is on descriptor 9, which the cluster's processes must not inherit (see _minime_pg_up).
    exec 9>>"$area/setup.lock" || return 1
    if command -v flock >/dev/null 2>&1 && ! flock 9; then
        rc=1
    elif ! _minime_pg_up "$bindir" "$area" "$port" "$db"; then
        rc=1
    fi
    exec 9>&-
    ((rc == 0)) || return 1

    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/$db"
    _minime_pg_say "database: $db on the private PostgreSQL $(<"$area/data/PG_VERSION") at 127.0.0.1:$port (data in $area)"
}
