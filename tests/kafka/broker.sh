#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft: one JVM is both broker and controller, no
# ZooKeeper) on 127.0.0.1, for tests. The jars come from Maven Central through tests/kafka/pom.xml
# and are cached outside the repo, so only the first start on a machine downloads anything.
#
#   tests/kafka/broker.sh start    # prints KAFKA_BOOTSTRAP=127.0.0.1:PORT on stdout once ready
#   tests/kafka/broker.sh status   # same line and exit 0 if running, exit 3 if not
#   tests/kafka/broker.sh stop     # SIGTERM, wait, SIGKILL after KAFKA_STOP_TIMEOUT seconds
#
# Typical use:  eval "$(tests/kafka/broker.sh start)"; export KAFKA_BOOTSTRAP
#
# Environment (all optional):
#   KAFKA_PORT             client (PLAINTEXT) port, default 19092
#   KAFKA_CONTROLLER_PORT  KRaft controller port, default KAFKA_PORT+1 (19093)
#   KAFKA_STATE_DIR        config, data, logs, pid; default ${TMPDIR:-/tmp}/pulumi-dms-offset-reset-kafka
#                          (data is kept across stop/start; delete the directory for a clean broker)
#   KAFKA_VERSION          broker version fetched from Maven Central, default 3.9.1 (see README.md);
#                          3.x only: 4.x logs through log4j2, not the reload4j setup below
#   KAFKA_LIBS_DIR         jar directory, default ${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset/kafka-VERSION/libs
#   KAFKA_HEAP_OPTS        JVM heap flags, default "-Xms256m -Xmx512m"
#   KAFKA_START_TIMEOUT    seconds to wait for readiness, default 120
#   KAFKA_STOP_TIMEOUT     seconds to wait after SIGTERM before SIGKILL, default 30
#
# Everything except the final KAFKA_BOOTSTRAP line goes to stderr, so `eval "$(... start)"` and
# `$(... status)` capture only that line.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-3.9.1}"
PORT="${KAFKA_PORT:-19092}"
CPORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
STATE_DIR="${KAFKA_STATE_DIR:-${TMPDIR:-/tmp}/pulumi-dms-offset-reset-kafka}"
LIBS_DIR="${KAFKA_LIBS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-dms-offset-reset/kafka-${KAFKA_VERSION}/libs}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-120}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

PID_FILE="$STATE_DIR/kafka.pid"
PROPS="$STATE_DIR/server.properties"
LOG4J="$STATE_DIR/log4j.properties"
DATA_DIR="$STATE_DIR/data"
LOG_DIR="$STATE_DIR/logs"
# stdout/stderr of the JVM itself (crashes before log4j is up, GC warnings, ...).
OUT_FILE="$LOG_DIR/kafka.out"
BOOTSTRAP="127.0.0.1:$PORT"

# Wall-clock milliseconds (bash 5's EPOCHREALTIME), for the timings printed on stderr.
now_ms() { local t="${EPOCHREALTIME/[.,]/}"; echo "$((t / 1000))"; }
elapsed() { local d=$(($(now_ms) - $1)); printf '%d.%d' "$((d / 1000))" "$((d % 1000 / 100))"; }

log() { printf 'broker.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# The pid file alone is not proof: the pid may have been reused by an unrelated process after a
# crash or reboot, so also check that it is a JVM running kafka.Kafka.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  grep -q 'kafka\.Kafka' <(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  printf '%s\n' "$pid"
}

# The bootstrap the running broker was started with (KAFKA_PORT may differ in this shell).
running_bootstrap() {
  if [[ -f "$STATE_DIR/bootstrap" ]]; then cat "$STATE_DIR/bootstrap"; else printf '%s\n' "$BOOTSTRAP"; fi
}

# kill -0 also succeeds on a zombie (exited, not yet reaped by its parent), so look at its state.
alive() {
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Download the broker jars once per version. They go to a temporary sibling first and are renamed
# into place only when Maven succeeded, so an interrupted fetch is never mistaken for a cache.
fetch_jars() {
  if [[ -f "$LIBS_DIR/kafka_2.13-${KAFKA_VERSION}.jar" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found: it is needed once to fetch the Kafka jars"
  mkdir -p "$(dirname "$LIBS_DIR")"
  local tmp="$LIBS_DIR.tmp.$$" t0
  t0="$(now_ms)"
  rm -rf "$tmp" "$tmp.log"
  log "fetching Kafka ${KAFKA_VERSION} jars from Maven Central into $LIBS_DIR"
  # Maven's output is kept aside and shown only on failure (Debian's Maven 3.8 prints stray colour
  # escapes even with -q -B).
  if ! mvn -B -q -f "$SCRIPT_DIR/pom.xml" -Dkafka.version="$KAFKA_VERSION" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "mvn could not fetch the Kafka ${KAFKA_VERSION} jars"
  fi
  rm -f "$tmp.log"
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  log "fetched $(ls "$LIBS_DIR" | wc -l) jars in $(elapsed "$t0") s"
}

write_config() {
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  # Rewritten on every start so a changed KAFKA_PORT / KAFKA_STATE_DIR takes effect.
  cat >"$PROPS" <<EOF
# Written by tests/kafka/broker.sh; edits are overwritten on the next start.
# One KRaft node that is both broker and (the only) controller voter.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${CPORT}
listeners=PLAINTEXT://127.0.0.1:${PORT},CONTROLLER://127.0.0.1:${CPORT}
advertised.listeners=PLAINTEXT://127.0.0.1:${PORT}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${DATA_DIR}

# Single replica everywhere: the internal topics' defaults (3) can never be met by one broker.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# __consumer_offsets defaults to 50 partitions; one is enough here and makes the first group
# coordinator lookup fast (the broker creates and loads it on first use).
offsets.topic.num.partitions=1
transaction.state.log.num.partitions=1
# Rebalance as soon as a member joins instead of waiting 3 s for more members.
group.initial.rebalance.delay.ms=0

# Tests create their topics explicitly; a misspelt topic should fail, not silently appear.
auto.create.topics.enable=false
# Small JVM on a small machine.
num.network.threads=2
num.io.threads=2
num.partitions=1
EOF
  # Broker log to a file (the JVM's stdout is not kept by anyone once we detach it).
  cat >"$LOG4J" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=${LOG_DIR}/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
# Per-request and state-change chatter would dwarf everything else.
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
EOF
}

# KRaft refuses to start on an unformatted log dir. Format once (meta.properties marks a formatted
# dir); later starts reuse the data. The cluster id is a random Kafka Uuid: 16 random bytes in
# unpadded base64url. Kafka itself never hands out ids starting with '-' (they read as options).
format_storage() {
  if [[ -f "$DATA_DIR/meta.properties" ]]; then return 0; fi
  local cluster_id
  while :; do
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$cluster_id" != -* ]] && break
  done
  log "formatting $DATA_DIR with cluster id $cluster_id"
  java -cp "$LIBS_DIR/*" -Dlog4j.configuration="file:$LOG4J" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$PROPS" >&2 \
    || die "kafka.tools.StorageTool format failed"
}

# Ready = the JVM is alive, the broker logged that it started, the port accepts connections and
# (when the repo's node_modules has kafkajs) a real metadata request answers.
wait_ready() {
  local pid="$1" t0="$2" log_offset="$3" deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! alive "$pid"; then
      log "broker exited during startup; last lines of $LOG_DIR/server.log and $OUT_FILE:"
      tail -n 30 "$LOG_DIR/server.log" >&2 2>/dev/null || true
      tail -n 30 "$OUT_FILE" >&2 2>/dev/null || true
      rm -f "$PID_FILE"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "not ready after ${START_TIMEOUT} s (still running as pid $pid; see $LOG_DIR/server.log)"
      exit 1
    fi
    # grep reads a process substitution, not a pipe: once it has found the line it stops reading, and under
    # pipefail a pipe would then report tail's SIGPIPE as failure, for as long as the log keeps growing
    # past the line (seen on a loaded machine: ready in 6 s, reported not ready after 120 s).
    if grep -q 'Kafka Server started' <(tail -c "+$((log_offset + 1))" "$LOG_DIR/server.log" 2>/dev/null) \
      && port_open "$PORT"; then
      break
    fi
    sleep 0.2
  done
  if [[ -d "$REPO_ROOT/node_modules/kafkajs" ]] && command -v node >/dev/null; then
    # listTopics = a Metadata request through the same client the tests use.
    (cd "$REPO_ROOT" && KAFKAJS_NO_PARTITIONER_WARNING=1 node -e '
      const { Kafka, logLevel } = require("kafkajs");
      const admin = new Kafka({ brokers: [process.argv[1]], logLevel: logLevel.NOTHING,
        retry: { retries: 10, initialRetryTime: 200 } }).admin();
      admin.connect().then(() => admin.listTopics()).then(
        () => admin.disconnect(),
        (e) => { console.error("metadata request failed: " + e.message); process.exit(1); });
    ' "$BOOTSTRAP") || die "broker started but a kafkajs metadata request failed"
  fi
  log "ready at $BOOTSTRAP (pid $pid) in $(elapsed "$t0") s"
}

cmd_start() {
  mkdir -p "$STATE_DIR"
  # Two concurrent starts (e.g. parallel CI steps) must not both launch a broker on one dir.
  exec 9>"$STATE_DIR/.lock"
  flock -w "$((START_TIMEOUT + 30))" 9 || die "could not lock $STATE_DIR/.lock"

  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid)"
    echo "KAFKA_BOOTSTRAP=$(running_bootstrap)"
    return 0
  fi
  command -v java >/dev/null || die "java not found (a JDK/JRE 11+ is needed; 17 is tested)"
  if port_open "$PORT"; then die "127.0.0.1:$PORT is already in use by another process"; fi
  if port_open "$CPORT"; then die "127.0.0.1:$CPORT is already in use by another process"; fi

  local t0
  t0="$(now_ms)"
  fetch_jars
  write_config
  format_storage
  # server.log is appended to across restarts (kept for post-mortems); readiness is looked for only
  # in what this start adds after this offset.
  local log_offset
  log_offset="$(stat -c %s "$LOG_DIR/server.log" 2>/dev/null || echo 0)"

  # setsid + nohup: the broker outlives this script and is not in the caller's process group, so a
  # Ctrl-C or a test runner killing its group does not take it down half-way; `stop` ends it.
  # (A background job of a non-interactive shell is not a group leader, so setsid does not fork
  # and $! is the JVM's pid.) 9>&-: the JVM must not inherit, and so hold forever, the start lock.
  # shellcheck disable=SC2086  # HEAP_OPTS is a list of flags
  setsid nohup java $HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$LOG4J" -Dkafka.logs.dir="$LOG_DIR" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$PROPS" </dev/null >"$OUT_FILE" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$BOOTSTRAP" >"$STATE_DIR/bootstrap"
  log "started Kafka ${KAFKA_VERSION} as pid $pid, state in $STATE_DIR"
  wait_ready "$pid" "$t0" "$log_offset"
  echo "KAFKA_BOOTSTRAP=$BOOTSTRAP"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  # SIGTERM runs Kafka's shutdown hook: a clean shutdown flushes logs and writes the clean-shutdown
  # marker, so the next start skips log recovery. After a SIGKILL the next start is ~10 s slower:
  # the controller first waits out the dead broker's session (broker.session.timeout.ms, 9 s).
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "still running after ${STOP_TIMEOUT} s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  while alive "$pid"; do sleep 0.1; done
  rm -f "$PID_FILE"
  log "stopped"
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    log "running (pid $pid)"
    echo "KAFKA_BOOTSTRAP=$(running_bootstrap)"
    return 0
  fi
  log "not running"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
