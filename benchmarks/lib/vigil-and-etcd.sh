# Sourced by the scripts that run etcd's Go tool against one fresh Vigil member beside one fresh
# etcd 3.4 (go-put-cpu, watch-cpu); expects the caller's `repo` (this checkout) and `pids` array.
#   start_vigil_and_etcd DIR VIGIL_PORT ETCD_PORT [PREFIX...]
# starts both on loopback with data and logs under DIR (etcd's peer port is ETCD_PORT + 1), each
# run under PREFIX when given (e.g. taskset -c 0), adds their pids to `pids`, sets `vpid` and
# `epid`, and waits (at most 60 s) until Vigil logs that it serves and etcd answers a health check.
start_vigil_and_etcd() {
  local dir=$1 vport=$2 eport=$3
  shift 3
  "$@" "$repo/bin/vigil" serve --data-dir "$dir/vigil" --listen-client-urls "http://127.0.0.1:$vport" \
    --advertise-client-urls "http://127.0.0.1:$vport" >"$dir/vigil.log" 2>&1 &
  vpid=$!; pids+=($vpid)
  local peer=http://127.0.0.1:$((eport + 1))
  ETCD_UNSUPPORTED_ARCH= "$@" etcd --name ref --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$eport" \
    --advertise-client-urls "http://127.0.0.1:$eport" --listen-peer-urls "$peer" \
    --initial-advertise-peer-urls "$peer" --initial-cluster "ref=$peer" \
    --log-level error >"$dir/etcd.log" 2>&1 &
  epid=$!; pids+=($epid)
  for _ in $(seq 600); do
    grep -q "ready to serve" "$dir/vigil.log" && ETCDCTL_API=3 etcdctl --endpoints "127.0.0.1:$eport" endpoint health \
      >/dev/null 2>&1 && break
    sleep 0.1
  done
}
