#!/usr/bin/env bash
# Deploys tiktok-events as a Cloud Function (2nd gen) with its own service account, the TikTok
# token in Secret Manager, log-based metrics, alert policies and a dashboard; with DURABLE=true,
# also the Pub/Sub topics and subscriptions of durable delivery. Safe to run again: it reads
# what exists, creates what is missing and re-states the rest.
#
#   printf '%s' "$TIKTOK_TOKEN" | ./deploy.sh --settings deploy.env   # first deploy
#   ./deploy.sh --settings deploy.env                                  # later deploys
#   ./deploy.sh --settings deploy.env --dry-run     # read everything, change nothing
#
# Words used here: a *setting* is a NAME=value of the settings file or of the environment (the
# environment wins); *deployment settings* say where and how to deploy, *function settings* are
# the function's own environment (README "Configuration"), which every deploy replaces whole; a
# *check* reads and never changes anything; a *change* is a gcloud command that does, printed
# with "+" before it runs, and only printed in a dry run. The token itself is never an argument
# of any process, nor printed.
set -euo pipefail
if ((BASH_VERSINFO[0] < 4)); then
	echo "deploy.sh needs bash 4 or newer (on macOS: brew install bash, then run it with that bash)" >&2
	exit 1
fi

usage() {
	cat <<'EOF'
usage: ./deploy.sh [--settings FILE] [--dry-run]   (a TikTok access token may be piped on stdin)

  --settings FILE  NAME=value lines (deploy.env.example explains each); the environment wins
  --dry-run        run every check, print every change, change nothing

Deployment settings:
  PROJECT_ID            Google Cloud project (else GOOGLE_CLOUD_PROJECT, else gcloud's project)
  REGION                europe-west1          FUNCTION_NAME   tiktok-events
  SECRET_ID             tiktok-access-token   SERVICE_ACCOUNT tiktok-events (an id or an e-mail)
  BUILD_SERVICE_ACCOUNT the e-mail of the account Cloud Build builds with (else the project's default)
  RUNTIME               python313             MEMORY 1Gi     CPU 1   TIMEOUT 60s
  MAX_INSTANCES         10                    CONCURRENCY 20 THREADS (= CONCURRENCY)
  PUBLIC_WITH_API_KEY   false: callers need an IAM identity; true: public, callers send X-Api-Key
  API_KEY_SECRET_ID     tiktok-events-api-key (the secret holding the caller key, public mode)
  MONITORING            true: log-based metrics, alert policies and a dashboard; false: none
  ALERT_NOTIFICATION_CHANNELS  comma-separated projects/P/notificationChannels/ID for the alerts
  DURABLE               true: what TikTok does not take in time waits in Pub/Sub (README, Durable delivery)
  PUSH_SERVICE_ACCOUNT  FUNCTION_NAME-push (the push subscription's identity; an id or an e-mail)
  MAX_DELIVERY_ATTEMPTS 50 (pushes of one message before it goes to the dead-letter topic, 5-100)
Function settings: every variable of the README's Configuration table.
EOF
}

die() {
	printf 'deploy.sh: %s\n' "$*" >&2
	exit 1
}

DRY_RUN_DEPLOY=false
SETTINGS_FILE=""
while (($#)); do
	case "$1" in
	--dry-run) DRY_RUN_DEPLOY=true ;;
	--settings)
		(($# >= 2)) || die "--settings needs a file"
		SETTINGS_FILE=$2
		shift
		;;
	--settings=*) SETTINGS_FILE=${1#--settings=} ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
	shift
done
if [[ -n $SETTINGS_FILE && $SETTINGS_FILE != /* ]]; then SETTINGS_FILE=$PWD/$SETTINGS_FILE; fi

# --source=. uploads the directory of this script, wherever it is run from.
HERE=${BASH_SOURCE[0]%/*}
if [[ $HERE == "${BASH_SOURCE[0]}" ]]; then HERE=.; fi
cd "$HERE"

DEPLOYMENT_SETTINGS=(
	PROJECT_ID REGION FUNCTION_NAME SECRET_ID SERVICE_ACCOUNT BUILD_SERVICE_ACCOUNT RUNTIME
	MEMORY CPU TIMEOUT MAX_INSTANCES CONCURRENCY THREADS PUBLIC_WITH_API_KEY API_KEY_SECRET_ID
	MONITORING ALERT_NOTIFICATION_CHANNELS DURABLE PUSH_SERVICE_ACCOUNT MAX_DELIVERY_ATTEMPTS
)
# The function's own settings (README "Configuration") that deploy.sh passes on when they are set.
FUNCTION_SETTINGS=(
	TIKTOK_PIXEL_ID TIKTOK_APP_ID TIKTOK_OFFLINE_EVENT_SET_ID TIKTOK_CRM_EVENT_SET_ID
	TIKTOK_TEST_EVENT_CODE TIKTOK_EVENT_MAPPING TIKTOK_VIEW_CONTENT_EVENTS
	TIKTOK_AUTODISCOVER_EVENT_SOURCE TIKTOK_SMART_MAPPING TIKTOK_GA4_PURCHASE_EVENT
	TIKTOK_CONSENT_CATEGORIES TIKTOK_GA4_REQUIRE_AD_STORAGE TIKTOK_DEFAULT_PHONE_REGION
	TIKTOK_TOKEN_TTL_SECONDS TIKTOK_API_URL TIKTOK_RETRY_DEADLINE_SECONDS
	DRY_RUN MAX_BODY_BYTES ADMISSION_BUDGET_BYTES LOG_LEVEL PUBSUB_PUSH_AUDIENCE
)
EVENT_SOURCE_IDS=(TIKTOK_PIXEL_ID TIKTOK_APP_ID TIKTOK_OFFLINE_EVENT_SET_ID TIKTOK_CRM_EVENT_SET_ID)
# Set by deploy.sh itself: GOOGLE_CLOUD_PROJECT, TIKTOK_ACCESS_TOKEN_SECRET, THREADS,
# MALLOC_ARENA_MAX, in public mode API_KEY_SECRET, with DURABLE=true TIKTOK_RETRY_TOPIC (and in
# public mode PUBSUB_PUSH_SERVICE_ACCOUNT).
DEPLOY_SETS=(TIKTOK_RETRY_TOPIC PUBSUB_PUSH_SERVICE_ACCOUNT)
# Never deployed: clear-text credentials belong in Secret Manager, and the endpoint overrides
# (anonymous credentials, test certificates) are for emulators and tests only.
LOCAL_ONLY_SETTINGS=(TIKTOK_ACCESS_TOKEN API_KEY SECRET_MANAGER_ENDPOINT PUBSUB_EMULATOR_HOST PUBSUB_PUSH_CERTS_URL)
# Set on every function by Cloud Functions itself: not a difference worth showing.
SET_BY_GOOGLE=(LOG_EXECUTION_ID)
# The files of the function: anything else in the upload is refused (see .gcloudignore).
UPLOADED='^(main\.py|requirements\.txt|service/[A-Za-z0-9_]+\.py|tiktok_mapper/[A-Za-z0-9_]+\.py|schemas/[A-Za-z0-9_.-]+\.schema\.json)$'
BUILDER_ROLES=(roles/cloudbuild.builds.builder roles/editor roles/owner)

say() { printf '%s\n' "$*" >&2; }
is_true() { [[ ${1,,} == true || $1 == 1 || ${1,,} == yes ]]; }
is_one_of() {
	local word=$1
	shift
	local item
	for item in "$@"; do [[ $item == "$word" ]] && return 0; done
	return 1
}
first_line() { printf '%s' "${1%%$'\n'*}"; }

# A change: printed as a shell line, run unless --dry-run. Its stdin is the caller's.
run() {
	printf '+' >&2
	printf ' %q' "$@" >&2
	printf '\n' >&2
	if [[ $DRY_RUN_DEPLOY == true ]]; then return 0; fi
	"$@"
}

# A check that only asks whether something exists. Never prompts.
exists() { "$@" </dev/null >/dev/null 2>&1; }

# IAM changes right after creating a service account can fail until it has propagated.
with_retries() {
	local attempt
	for attempt in 1 2 3 4 5; do
		if run "$@"; then return 0; fi
		[[ $attempt == 5 ]] && return 1
		say "retrying in $((attempt * 3)) s (a new service account takes a moment to appear)"
		sleep "$((attempt * 3))"
	done
}

# A double-quoted YAML and JSON string, escaped as Python's json.dumps does (which is how gcloud
# prints the function's current environment, so the two compare as text).
quoted() {
	local value=$1 code character
	value=${value//\\/\\\\}
	value=${value//\"/\\\"}
	value=${value//$'\n'/\\n}
	value=${value//$'\r'/\\r}
	value=${value//$'\t'/\\t}
	value=${value//$'\b'/\\b}
	value=${value//$'\f'/\\f}
	for code in 01 02 03 04 05 06 07 0b 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f; do
		printf -v character '%b' "\\x$code"
		value=${value//"$character"/\\u00$code}
	done
	printf '"%s"' "$value"
}

# The token, when one is piped in. Read with a builtin and written to gcloud's stdin with one:
# it is never an argument of any process, and never printed.
TOKEN=""
if [[ ! -t 0 ]]; then
	IFS= read -r -d '' TOKEN || true
	TOKEN=${TOKEN//[$' \t\r\n']/}
fi

# ---- settings -----------------------------------------------------------------------------------
declare -A ORIGIN=()
for name in "${DEPLOYMENT_SETTINGS[@]}" "${FUNCTION_SETTINGS[@]}"; do
	if [[ -n ${!name:-} ]]; then ORIGIN[$name]=environment; fi
done

# Reads NAME=value lines; the file is read, never run. One pair of quotes around a value is
# dropped; nothing else is interpreted (a # inside a value is part of it).
read_settings() {
	local file=$1 number=0 line name value
	[[ -f $file && -r $file ]] || die "cannot read the settings file $file"
	declare -A seen=()
	while IFS= read -r line || [[ -n $line ]]; do
		number=$((number + 1))
		line=${line%$'\r'}
		[[ $line =~ ^[[:space:]]*(#.*)?$ ]] && continue
		[[ $line =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] ||
			die "$file line $number: expected NAME=value"
		name=${BASH_REMATCH[2]} value=${BASH_REMATCH[3]}
		if is_one_of "$name" "${LOCAL_ONLY_SETTINGS[@]}"; then
			die "$file line $number: $name is never deployed (the token goes to Secret Manager: pipe it into deploy.sh)"
		fi
		if is_one_of "$name" "${DEPLOY_SETS[@]}"; then
			die "$file line $number: $name is set by deploy.sh: set DURABLE=true (and PUSH_SERVICE_ACCOUNT) instead"
		fi
		is_one_of "$name" "${DEPLOYMENT_SETTINGS[@]}" "${FUNCTION_SETTINGS[@]}" ||
			die "$file line $number: $name is not a setting (./deploy.sh --help lists them)"
		[[ -z ${seen[$name]:-} ]] || die "$file line $number: $name is set twice"
		seen[$name]=1
		if [[ $value =~ ^\'(.*)\'$ || $value =~ ^\"(.*)\"$ ]]; then value=${BASH_REMATCH[1]}; fi
		if [[ ${ORIGIN[$name]:-} == environment ]]; then continue; fi
		printf -v "$name" '%s' "$value"
		if [[ -n $value ]]; then ORIGIN[$name]=${file##*/}; fi
	done <"$file"
}
if [[ -n $SETTINGS_FILE ]]; then read_settings "$SETTINGS_FILE"; fi

default() {
	local name=$1 value=$2
	if [[ -z ${!name:-} ]]; then
		printf -v "$name" '%s' "$value"
		ORIGIN[$name]=default
	fi
}

command -v gcloud >/dev/null ||
	die "gcloud is not installed: https://cloud.google.com/sdk/docs/install (deploy.sh needs only it and bash)"

if [[ -z ${PROJECT_ID:-} && -n ${GOOGLE_CLOUD_PROJECT:-} ]]; then
	PROJECT_ID=$GOOGLE_CLOUD_PROJECT
	ORIGIN[PROJECT_ID]="environment (GOOGLE_CLOUD_PROJECT)"
fi
if [[ -z ${PROJECT_ID:-} ]]; then
	# gcloud's local configuration only: no change, no network.
	PROJECT_ID=$(gcloud config get-value project 2>/dev/null </dev/null || true)
	ORIGIN[PROJECT_ID]="gcloud config"
fi
[[ -n $PROJECT_ID ]] || die "no project: set PROJECT_ID (or run: gcloud config set project PROJECT)"

default REGION europe-west1
default FUNCTION_NAME tiktok-events
default SECRET_ID tiktok-access-token
default SERVICE_ACCOUNT tiktok-events
default BUILD_SERVICE_ACCOUNT ""
default RUNTIME python313
default MEMORY 1Gi
default CPU 1
default TIMEOUT 60s
default MAX_INSTANCES 10
default CONCURRENCY 20
default THREADS "$CONCURRENCY"
default PUBLIC_WITH_API_KEY false
default API_KEY_SECRET_ID "$FUNCTION_NAME-api-key"
default MONITORING true
default ALERT_NOTIFICATION_CHANNELS ""
default DURABLE false
default PUSH_SERVICE_ACCOUNT "$FUNCTION_NAME-push"
default MAX_DELIVERY_ATTEMPTS 50

# Every deployment setting has its exact form: they end up in commands and in JSON.
must_match() {
	local name=$1 pattern=$2 form=$3
	[[ ${!name} =~ $pattern ]] || die "$name must be $form"
}
BOOLEAN='^(true|false|TRUE|FALSE|True|False|1|0|yes|no)$'
must_match PROJECT_ID '^([a-z][a-z0-9.-]*:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$' "a project id (my-project)"
must_match REGION '^[a-z]+-[a-z]+[0-9]+$' "a region (europe-west1)"
must_match FUNCTION_NAME '^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$' "lower-case letters, digits and dashes"
must_match SECRET_ID '^[A-Za-z0-9_-]{1,255}$' "a secret id (letters, digits, _ and -)"
must_match API_KEY_SECRET_ID '^[A-Za-z0-9_-]{1,255}$' "a secret id (letters, digits, _ and -)"
must_match SERVICE_ACCOUNT '^([a-z][a-z0-9-]{4,28}[a-z0-9]|[^@[:space:]]+@[^@[:space:]]+)$' \
	"an account id of the project or an e-mail"
must_match BUILD_SERVICE_ACCOUNT '^([^@[:space:]/]+@[^@[:space:]/]+)?$' "an e-mail"
must_match RUNTIME '^python3[0-9]+$' "a Python runtime (python313)"
must_match MEMORY '^[0-9]+(\.[0-9]+)?(k|M|G|T|Ki|Mi|Gi|Ti|MB|GB)$' "an amount with its unit (512Mi, 1Gi)"
must_match CPU '^[0-9]+(\.[0-9]+)?$' "a number of vCPUs (1, 2, 0.583)"
must_match TIMEOUT '^[1-9][0-9]*(s|m)?$' "a duration (60s)"
must_match MAX_INSTANCES '^[1-9][0-9]*$' "a whole number"
must_match CONCURRENCY '^[1-9][0-9]*$' "a whole number"
must_match THREADS '^[1-9][0-9]*$' "a whole number"
must_match PUBLIC_WITH_API_KEY "$BOOLEAN" "true or false"
must_match MONITORING "$BOOLEAN" "true or false"
must_match DURABLE "$BOOLEAN" "true or false"
must_match PUSH_SERVICE_ACCOUNT '^([a-z][a-z0-9-]{4,28}[a-z0-9]|[^@[:space:]]+@[^@[:space:]]+)$' \
	"an account id of the project (6 to 30 lower-case letters, digits and dashes) or an e-mail"
must_match MAX_DELIVERY_ATTEMPTS '^([5-9]|[1-9][0-9]|100)$' "a whole number from 5 to 100 (Pub/Sub's bounds)"
must_match ALERT_NOTIFICATION_CHANNELS \
	'^(projects/[a-z0-9.:-]+/notificationChannels/[0-9]+(,projects/[a-z0-9.:-]+/notificationChannels/[0-9]+)*)?$' \
	"comma-separated projects/PROJECT/notificationChannels/ID"

if [[ $SERVICE_ACCOUNT != *@* ]]; then SERVICE_ACCOUNT="$SERVICE_ACCOUNT@$PROJECT_ID.iam.gserviceaccount.com"; fi
if is_true "$PUBLIC_WITH_API_KEY"; then PUBLIC=true; else PUBLIC=false; fi
if is_true "$MONITORING"; then MONITORING=true; else MONITORING=false; fi
if is_true "$DURABLE"; then DURABLE=true; else DURABLE=false; fi
if [[ $PUSH_SERVICE_ACCOUNT != *@* ]]; then PUSH_SERVICE_ACCOUNT="$PUSH_SERVICE_ACCOUNT@$PROJECT_ID.iam.gserviceaccount.com"; fi

# Durable delivery (README, Reliability > Durable delivery): the names of its Pub/Sub resources,
# and the push subscription's acknowledgement deadline, above the function's timeout (Pub/Sub
# would push a message again while the function still works on it) and at most Pub/Sub's 600 s.
RETRY_TOPIC=$FUNCTION_NAME-retry
DEAD_LETTER_TOPIC=$FUNCTION_NAME-dead-letter
PUSH_SUBSCRIPTION=$FUNCTION_NAME-retry-push
DEAD_LETTER_SUBSCRIPTION=$FUNCTION_NAME-dead-letters
if [[ $TIMEOUT == *m ]]; then TIMEOUT_SECONDS=$((${TIMEOUT%m} * 60)); else TIMEOUT_SECONDS=${TIMEOUT%s}; fi
ACK_DEADLINE=$((TIMEOUT_SECONDS + 30))
if [[ $DURABLE == true ]] && ((ACK_DEADLINE > 600)); then
	die "with DURABLE=true, TIMEOUT must be at most 570s: Pub/Sub waits at most 600 s for an answer to a push, and must wait longer than the function may take"
fi
has_event_source_id=false
for name in "${EVENT_SOURCE_IDS[@]}"; do [[ -n ${!name:-} ]] && has_event_source_id=true; done
[[ $has_event_source_id == true ]] || die "no event source id: set at least one of \
${EVENT_SOURCE_IDS[*]} (in the settings file), or every event would fail"

TOKEN_SECRET_NAME="projects/$PROJECT_ID/secrets/$SECRET_ID/versions/latest"
API_KEY_SECRET_NAME="projects/$PROJECT_ID/secrets/$API_KEY_SECRET_ID/versions/latest"

if [[ $DRY_RUN_DEPLOY == true ]]; then say "Dry run: every check runs, every change is printed (+), none is made."; fi
say "Deploying with (from the environment, ${SETTINGS_FILE:+${SETTINGS_FILE##*/}, }gcloud or the defaults):"
for name in "${DEPLOYMENT_SETTINGS[@]}"; do
	if [[ $name == API_KEY_SECRET_ID && $PUBLIC != true ]]; then continue; fi
	if [[ ($name == PUSH_SERVICE_ACCOUNT || $name == MAX_DELIVERY_ATTEMPTS) && $DURABLE != true ]]; then continue; fi
	if [[ -n ${!name} ]]; then say "  $name=${!name}   (${ORIGIN[$name]:-default})"; else say "  $name not set"; fi
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
ENV_FILE=$WORK/environment.yaml
: >"$ENV_FILE"
declare -A NEW_ENV=() CURRENT_ENV=()
NEW_ORDER=()
setting() {
	local value
	value=$(quoted "$2")
	printf '%s: %s\n' "$1" "$value" >>"$ENV_FILE"
	NEW_ENV[$1]=$value
	NEW_ORDER+=("$1")
}
setting GOOGLE_CLOUD_PROJECT "$PROJECT_ID"
setting TIKTOK_ACCESS_TOKEN_SECRET "$TOKEN_SECRET_NAME"
setting THREADS "$THREADS"
# glibc gives each thread its own malloc arena, which keeps what that thread freed: capped at 2,
# the worst request mix peaked at 419-605 MiB instead of 490-757 (README, Deploy > Sizing).
setting MALLOC_ARENA_MAX 2
if [[ $PUBLIC == true ]]; then setting API_KEY_SECRET "$API_KEY_SECRET_NAME"; fi
if [[ $DURABLE == true ]]; then
	setting TIKTOK_RETRY_TOPIC "projects/$PROJECT_ID/topics/$RETRY_TOPIC"
	# In public mode the function checks the push token itself (IAM mode: Google does).
	if [[ $PUBLIC == true ]]; then setting PUBSUB_PUSH_SERVICE_ACCOUNT "$PUSH_SERVICE_ACCOUNT"; fi
fi
for name in "${FUNCTION_SETTINGS[@]}"; do
	if [[ -n ${!name:-} ]]; then setting "$name" "${!name}"; fi
done
for name in "${LOCAL_ONLY_SETTINGS[@]}"; do
	if [[ -n ${!name:-} ]]; then say "  ($name is set here but never deployed: local runs only)"; fi
done

# ---- checks: nothing changes before these pass ------------------------------------------------
say ""
ACCOUNT=""
read -r ACCOUNT < <(gcloud auth list --filter=status:ACTIVE --format='value(account)' 2>/dev/null </dev/null) || true
[[ -n $ACCOUNT ]] || die "gcloud has no active account: run gcloud auth login"
PROJECT_NUMBER=$(gcloud projects describe "$PROJECT_ID" --format='value(projectNumber)' 2>/dev/null </dev/null) || true
[[ -n $PROJECT_NUMBER ]] || die "the project $PROJECT_ID does not exist, or $ACCOUNT cannot see it"
say "Checked: gcloud is logged in as $ACCOUNT; project $PROJECT_ID exists (number $PROJECT_NUMBER)."

# What gcloud would upload with --source=. (it applies .gcloudignore): the function's files only.
check_upload() {
	local file uploaded=() unexpected=()
	while IFS= read -r file; do
		[[ -n $file ]] || continue
		uploaded+=("$file")
		[[ $file =~ $UPLOADED ]] || unexpected+=("$file")
	done < <(gcloud meta list-files-for-upload . 2>/dev/null </dev/null || true)
	if ((${#unexpected[@]})); then
		die "these files would be uploaded with the function: ${unexpected[*]}. Move them out of \
$PWD (a token or a key belongs in Secret Manager), or leave them out in .gcloudignore"
	fi
	if ! is_one_of main.py "${uploaded[@]}" || ! is_one_of requirements.txt "${uploaded[@]}"; then
		die "gcloud would not upload main.py and requirements.txt: check .gcloudignore (and that gcloudignore/enabled is not false)"
	fi
	say "Checked: the upload is the function only (${#uploaded[@]} files: main.py, requirements.txt, service/, tiktok_mapper/, schemas/)."
}
check_upload

if [[ $MONITORING == true ]]; then
	[[ -n $(gcloud info --format='value(installation.components.alpha)' 2>/dev/null </dev/null) ]] ||
		die "the alert policies need gcloud's alpha commands (gcloud components install alpha, or \
the alpha package of your distribution's google-cloud-cli), or set MONITORING=false"
fi

# ---- APIs, identities ---------------------------------------------------------------------------
APIS=(cloudfunctions run cloudbuild artifactregistry secretmanager iam)
if [[ $MONITORING == true ]]; then APIS+=(logging monitoring); fi
if [[ $DURABLE == true ]]; then APIS+=(pubsub); fi
ENABLED=$'\n'$(gcloud services list --enabled --project="$PROJECT_ID" --format='value(config.name)' 2>/dev/null </dev/null || true)$'\n'
MISSING_APIS=()
for api in "${APIS[@]}"; do
	[[ $ENABLED == *$'\n'"$api.googleapis.com"$'\n'* ]] || MISSING_APIS+=("$api.googleapis.com")
done
if ((${#MISSING_APIS[@]})); then
	say "Enabling the APIs that are off: ${MISSING_APIS[*]}"
	run gcloud services enable "${MISSING_APIS[@]}" --project="$PROJECT_ID"
fi

if ! exists gcloud iam service-accounts describe "$SERVICE_ACCOUNT" --project="$PROJECT_ID"; then
	[[ $SERVICE_ACCOUNT == *"@$PROJECT_ID.iam.gserviceaccount.com" ]] ||
		die "service account $SERVICE_ACCOUNT not found (deploy.sh creates accounts of $PROJECT_ID only)"
	run gcloud iam service-accounts create "${SERVICE_ACCOUNT%%@*}" --project="$PROJECT_ID" \
		--display-name="tiktok-events runtime ($FUNCTION_NAME)"
fi

# The account Cloud Build builds with needs roles/cloudbuild.builds.builder. Projects created
# since mid-2024 build with the Compute Engine default account, which may not have it; gcloud's
# own warning is a prompt that --quiet skips, so deploy.sh checks it here.
BUILD_FLAGS=()
BUILD_ACCOUNT=$BUILD_SERVICE_ACCOUNT
if [[ -n $BUILD_ACCOUNT ]]; then
	exists gcloud iam service-accounts describe "$BUILD_ACCOUNT" --project="$PROJECT_ID" ||
		die "BUILD_SERVICE_ACCOUNT $BUILD_ACCOUNT not found: create it and grant it roles/cloudbuild.builds.builder"
	BUILD_FLAGS=(--build-service-account="projects/$PROJECT_ID/serviceAccounts/$BUILD_ACCOUNT")
else
	BUILD_ACCOUNT=$(gcloud builds get-default-service-account --project="$PROJECT_ID" \
		--region="$REGION" 2>/dev/null </dev/null || true)
fi
grant_builder="gcloud projects add-iam-policy-binding $PROJECT_ID \
--member=serviceAccount:${BUILD_ACCOUNT:-BUILD_ACCOUNT} --role=roles/cloudbuild.builds.builder"
if [[ -z $BUILD_ACCOUNT ]]; then
	say "Warning: could not ask Cloud Build for its default account; if the build fails for lack of rights, set BUILD_SERVICE_ACCOUNT to an account with roles/cloudbuild.builds.builder."
elif ! BUILD_ROLES=$(gcloud projects get-iam-policy "$PROJECT_ID" --flatten='bindings[].members' \
	--filter="bindings.members=\"serviceAccount:$BUILD_ACCOUNT\"" --format='value(bindings.role)' \
	2>/dev/null </dev/null); then
	say "Warning: cannot read the project's IAM policy to check that $BUILD_ACCOUNT may build; if the build fails, run: $grant_builder"
else
	can_build=false
	while IFS= read -r role; do
		if is_one_of "$role" "${BUILDER_ROLES[@]}"; then can_build=true; fi
	done <<<"$BUILD_ROLES"
	[[ $can_build == true ]] || die "the build account $BUILD_ACCOUNT lacks roles/cloudbuild.builds.builder, \
so the build would fail. Grant it (or set BUILD_SERVICE_ACCOUNT to an account that has it):
  $grant_builder"
	say "Checked: the build account $BUILD_ACCOUNT has a role that may build."
fi

# ---- secrets ------------------------------------------------------------------------------------
create_secret() {
	run gcloud secrets create "$1" --project="$PROJECT_ID" --replication-policy=automatic \
		--labels="app=tiktok-events,purpose=$2"
}

# Adds a version from stdin; the value is handed over by a builtin, never as an argument.
add_version() {
	local secret=$1 value=$2
	if [[ $DRY_RUN_DEPLOY == true ]]; then
		run gcloud secrets versions add "$secret" --project="$PROJECT_ID" --data-file=- </dev/null
	else
		printf '%s' "$value" | run gcloud secrets versions add "$secret" --project="$PROJECT_ID" \
			--data-file=- >/dev/null
	fi
}

# versions/latest is the newest version whatever its state: a disabled newest version breaks the
# function. Sets LATEST (its number) and LATEST_STATE; fails when the secret has no version.
latest_version() {
	local secret=$1 out
	LATEST="" LATEST_STATE=""
	if out=$(gcloud secrets versions describe latest --secret="$secret" --project="$PROJECT_ID" \
		--format='value(name.basename(),state)' 2>"$WORK/error" </dev/null); then
		read -r LATEST LATEST_STATE <<<"$out"
		return 0
	fi
	out=$(<"$WORK/error")
	[[ $out == *NOT_FOUND* ]] && return 1
	die "cannot read the versions of the secret $secret: $(first_line "$out")"
}

require_enabled() {
	local secret=$1 what=$2
	[[ $LATEST_STATE == ENABLED ]] && return 0
	die "the newest version ($LATEST) of the secret $secret is ${LATEST_STATE:-unknown}: versions/latest \
always reads the newest version, even a disabled one, so the function could not read $what. Add a \
version (deploy.sh adds the token piped into it), or enable version $LATEST again:
  gcloud secrets versions enable $LATEST --secret=$secret --project=$PROJECT_ID"
}

grant_access() {
	with_retries gcloud secrets add-iam-policy-binding "$1" --project="$PROJECT_ID" \
		--member="serviceAccount:$SERVICE_ACCOUNT" --role=roles/secretmanager.secretAccessor \
		--condition=None --quiet >/dev/null
}

say ""
NEW_TOKEN_SECRET=false
if ! exists gcloud secrets describe "$SECRET_ID" --project="$PROJECT_ID"; then
	create_secret "$SECRET_ID" tiktok-token
	NEW_TOKEN_SECRET=true
fi
if [[ -n $TOKEN ]]; then
	say "Adding the token from stdin as a new version of $SECRET_ID (it becomes the newest)"
	add_version "$SECRET_ID" "$TOKEN"
elif [[ $NEW_TOKEN_SECRET == true ]] || ! latest_version "$SECRET_ID"; then
	no_token="the secret $SECRET_ID has no version, so the function could not send anything. Pipe \
the TikTok Events API access token into deploy.sh, from a file outside this directory (files here \
could be uploaded with the function):
  printf '%s' \"\$TOKEN\" | ./deploy.sh ...        or        ./deploy.sh ... < ~/tiktok-token.txt
(Events Manager > your pixel > Settings > Generate Access Token)."
	[[ $DRY_RUN_DEPLOY == true ]] || die "$no_token"
	say "Without --dry-run, deploy.sh would stop here: $no_token"
else
	require_enabled "$SECRET_ID" "the token"
	say "Checked: the newest version ($LATEST) of $SECRET_ID is enabled."
fi
TOKEN=""
say "Letting $SERVICE_ACCOUNT read $SECRET_ID (and no other secret)"
grant_access "$SECRET_ID"

NEW_API_KEY=""
if [[ $PUBLIC == true ]]; then
	if ! exists gcloud secrets describe "$API_KEY_SECRET_ID" --project="$PROJECT_ID"; then
		create_secret "$API_KEY_SECRET_ID" caller-key
		NEW_API_KEY=new
	elif ! latest_version "$API_KEY_SECRET_ID"; then
		NEW_API_KEY=new
	else
		require_enabled "$API_KEY_SECRET_ID" "the caller key"
	fi
	if [[ -n $NEW_API_KEY ]]; then
		# 32 random bytes as hex: the caller key, stored once.
		NEW_API_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
		[[ $DRY_RUN_DEPLOY == true ]] && NEW_API_KEY='(a new random key)'
		say "Storing a new caller key in $API_KEY_SECRET_ID"
		add_version "$API_KEY_SECRET_ID" "$NEW_API_KEY"
	fi
	say "Letting $SERVICE_ACCOUNT read $API_KEY_SECRET_ID"
	grant_access "$API_KEY_SECRET_ID"
fi

# ---- durable delivery: topics, the dead letters, the identities ---------------------------------
# Pub/Sub's own service agent forwards dead letters and signs the push tokens.
PUBSUB_AGENT=service-$PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com
LABELS="app=tiktok-events,function=$FUNCTION_NAME"

create_topic() {
	if ! exists gcloud pubsub topics describe "$1" --project="$PROJECT_ID"; then
		run gcloud pubsub topics create "$1" --project="$PROJECT_ID" --labels="$LABELS"
	fi
}

# put_subscription NAME TOPIC OPTION...: created on TOPIC with the options, or the options re-stated.
put_subscription() {
	local name=$1 topic=$2
	shift 2
	if exists gcloud pubsub subscriptions describe "$name" --project="$PROJECT_ID"; then
		run gcloud pubsub subscriptions update "$name" --project="$PROJECT_ID" "$@"
	else
		run gcloud pubsub subscriptions create "$name" --project="$PROJECT_ID" --topic="$topic" \
			"$@" --labels="$LABELS"
	fi
}

# grant_pubsub topics|subscriptions NAME MEMBER ROLE: one role on that one resource.
grant_pubsub() {
	with_retries gcloud pubsub "$1" add-iam-policy-binding "$2" --project="$PROJECT_ID" \
		--member="$3" --role="$4" --condition=None --quiet >/dev/null
}

if [[ $DURABLE == true ]]; then
	say ""
	say "Durable delivery: topics $RETRY_TOPIC and $DEAD_LETTER_TOPIC, the dead letters kept in $DEAD_LETTER_SUBSCRIPTION"
	create_topic "$RETRY_TOPIC"
	create_topic "$DEAD_LETTER_TOPIC"
	say "Letting $SERVICE_ACCOUNT publish to $RETRY_TOPIC (and to no other topic)"
	grant_pubsub topics "$RETRY_TOPIC" "serviceAccount:$SERVICE_ACCOUNT" roles/pubsub.publisher
	# A pull subscription keeps the dead letters (a topic alone keeps nothing) for 7 days; it
	# never expires for lack of use.
	put_subscription "$DEAD_LETTER_SUBSCRIPTION" "$DEAD_LETTER_TOPIC" \
		--message-retention-duration=7d --ack-deadline=60 --expiration-period=never
	say "Letting Pub/Sub's service agent put dead letters in $DEAD_LETTER_TOPIC"
	grant_pubsub topics "$DEAD_LETTER_TOPIC" "serviceAccount:$PUBSUB_AGENT" roles/pubsub.publisher
	if ! exists gcloud iam service-accounts describe "$PUSH_SERVICE_ACCOUNT" --project="$PROJECT_ID"; then
		[[ $PUSH_SERVICE_ACCOUNT == *"@$PROJECT_ID.iam.gserviceaccount.com" ]] ||
			die "PUSH_SERVICE_ACCOUNT $PUSH_SERVICE_ACCOUNT not found (deploy.sh creates accounts of $PROJECT_ID only)"
		run gcloud iam service-accounts create "${PUSH_SERVICE_ACCOUNT%%@*}" --project="$PROJECT_ID" \
			--display-name="tiktok-events push subscription ($FUNCTION_NAME)"
	fi
	# Pub/Sub signs the push tokens as that account (projects made before April 2021 need this
	# grant; on that one account only, never on the project).
	say "Letting Pub/Sub's service agent sign push tokens as $PUSH_SERVICE_ACCOUNT (and no other account)"
	with_retries gcloud iam service-accounts add-iam-policy-binding "$PUSH_SERVICE_ACCOUNT" --project="$PROJECT_ID" \
		--member="serviceAccount:$PUBSUB_AGENT" --role=roles/iam.serviceAccountTokenCreator --condition=None --quiet >/dev/null
fi

# ---- the function as it is now, and what changes ------------------------------------------------
FUNCTION_EXISTS=false
if [[ $ENABLED == *$'\n'cloudfunctions.googleapis.com$'\n'* ]]; then
	if described=$(gcloud functions describe "$FUNCTION_NAME" --project="$PROJECT_ID" \
		--region="$REGION" --format='json(serviceConfig.environmentVariables)' 2>"$WORK/error" </dev/null); then
		FUNCTION_EXISTS=true
		# gcloud prints JSON with one "NAME": "escaped value" per line.
		while IFS= read -r line; do
			if [[ $line =~ ^[[:space:]]*\"([A-Za-z_][A-Za-z0-9_]*)\":[[:space:]](\".*\"),?$ ]]; then
				CURRENT_ENV[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
			fi
		done <<<"$described"
	elif [[ $(<"$WORK/error") != *NOT_FOUND* ]]; then
		die "cannot read the function $FUNCTION_NAME: $(first_line "$(<"$WORK/error")")"
	fi
fi

shown() { if is_one_of "$1" "${LOCAL_ONLY_SETTINGS[@]}"; then printf '(value hidden)'; else printf '%s' "$2"; fi; }
say ""
if [[ $FUNCTION_EXISTS == true ]]; then
	say "Function settings, compared with what $FUNCTION_NAME has now (+ added, ~ changed, - removed):"
	changes=0
	for name in "${NEW_ORDER[@]}"; do
		if [[ -z ${CURRENT_ENV[$name]+set} ]]; then
			say "  + $name=${NEW_ENV[$name]}"
			changes=$((changes + 1))
		elif [[ ${CURRENT_ENV[$name]} != "${NEW_ENV[$name]}" ]]; then
			say "  ~ $name: $(shown "$name" "${CURRENT_ENV[$name]}") -> ${NEW_ENV[$name]}"
			changes=$((changes + 1))
		fi
	done
	for name in "${!CURRENT_ENV[@]}"; do
		if [[ -z ${NEW_ENV[$name]+set} ]] && ! is_one_of "$name" "${SET_BY_GOOGLE[@]}"; then
			say "  - $name (was $(shown "$name" "${CURRENT_ENV[$name]}"); it goes back to its default)"
			changes=$((changes + 1))
		fi
	done
	((changes)) || say "  (no change)"
else
	say "Function settings of the new function $FUNCTION_NAME (all others take their defaults):"
	for name in "${NEW_ORDER[@]}"; do say "  + $name=${NEW_ENV[$name]}"; done
fi

# ---- watching it: log-based metrics, alert policies, dashboard -----------------------------------
# The templates name the function, project and region with {{FUNCTION_NAME}}, {{PROJECT_ID}},
# {{REGION}}; the values were checked above, so they are safe inside JSON strings.
fill() {
	local template=$1 text
	text=$(<"$template")
	text=${text//'{{FUNCTION_NAME}}'/"$FUNCTION_NAME"}
	text=${text//'{{PROJECT_ID}}'/"$PROJECT_ID"}
	text=${text//'{{REGION}}'/"$REGION"}
	printf '%s' "$text"
}

# A JSON list of the notification channels.
channels_json() {
	local channel list=""
	local -a names=()
	IFS=, read -r -a names <<<"$ALERT_NOTIFICATION_CHANNELS"
	for channel in "${names[@]}"; do list+="${list:+, }\"$channel\""; done
	printf '[%s]' "$list"
}

if [[ $MONITORING == true ]]; then
	say ""
	say "Log-based metrics (read from the function's request log line), project-wide:"
	# In a dry run an API that is off has nothing in it yet: there is nothing to list.
	METRICS=""
	if [[ $DRY_RUN_DEPLOY != true || $ENABLED == *$'\n'logging.googleapis.com$'\n'* ]] &&
		! METRICS=$(gcloud logging metrics list --project="$PROJECT_ID" --filter='name:tiktok-events/' \
			--format='value(name)' 2>"$WORK/error" </dev/null); then
		die "cannot list the log-based metrics: $(first_line "$(<"$WORK/error")")"
	fi
	MONITORING_ON=true
	if [[ $DRY_RUN_DEPLOY == true && $ENABLED != *$'\n'monitoring.googleapis.com$'\n'* ]]; then MONITORING_ON=false; fi
	for file in monitoring/metrics/*.json; do
		metric=${file##*/}
		metric=tiktok-events/${metric%.json}
		if [[ $'\n'$METRICS$'\n' == *$'\n'"$metric"$'\n'* ]]; then
			run gcloud logging metrics update "$metric" --project="$PROJECT_ID" --config-from-file="$file"
		else
			run gcloud logging metrics create "$metric" --project="$PROJECT_ID" --config-from-file="$file"
		fi
	done

	say "Alert policies (found again by their labels app, function and alert):"
	for file in monitoring/alerts/*.json; do
		alert=${file##*/}
		alert=${alert%.json}
		policy_file=$WORK/alert-$alert.json
		policy=$(fill "$file")
		no_channels='"notificationChannels": []'
		channels="\"notificationChannels\": $(channels_json)"
		printf '%s\n' "${policy/"$no_channels"/"$channels"}" >"$policy_file"
		found=""
		if [[ $MONITORING_ON == true ]] && ! found=$(gcloud alpha monitoring policies list --project="$PROJECT_ID" \
			--filter="userLabels.app=tiktok-events AND userLabels.function=$FUNCTION_NAME AND userLabels.alert=$alert" \
			--format='value(name)' 2>"$WORK/error" </dev/null); then
			die "cannot list the alert policies: $(first_line "$(<"$WORK/error")")"
		fi
		found=${found%%$'\n'*}
		if [[ -n $found ]]; then
			run gcloud alpha monitoring policies update "$found" --project="$PROJECT_ID" --policy-from-file="$policy_file"
		else
			run gcloud alpha monitoring policies create --project="$PROJECT_ID" --policy-from-file="$policy_file"
		fi
	done

	say "Dashboard:"
	DASHBOARD=projects/$PROJECT_ID/dashboards/$FUNCTION_NAME
	dashboard=$(fill monitoring/dashboard.json)
	if etag=$(gcloud monitoring dashboards describe "$DASHBOARD" --project="$PROJECT_ID" \
		--format='value(etag)' 2>/dev/null </dev/null); then
		[[ $etag =~ ^[A-Za-z0-9_-]*$ ]] || die "the dashboard $DASHBOARD has an unexpected etag"
		printf '{"name": "%s", "etag": "%s",%s\n' "$DASHBOARD" "$etag" "${dashboard#\{}" >"$WORK/dashboard.json"
		run gcloud monitoring dashboards update "$DASHBOARD" --project="$PROJECT_ID" --config-from-file="$WORK/dashboard.json"
	else
		printf '{"name": "%s",%s\n' "$DASHBOARD" "${dashboard#\{}" >"$WORK/dashboard.json"
		run gcloud monitoring dashboards create --project="$PROJECT_ID" --config-from-file="$WORK/dashboard.json"
	fi
fi

# ---- deploy -------------------------------------------------------------------------------------
# Who may call it. The invoker policy is changed only by the explicit commands below, never by
# --[no-]allow-unauthenticated on the deploy (which rewrites it, and needs the right to, on every
# run). Order: going private, allUsers goes before the revision without the key check is
# deployed; going public, the revision with the key check is deployed before allUsers comes in.
# So there is never a moment when the function is public without a key check.
PUBLIC_MEMBERS=(allUsers allAuthenticatedUsers)
invokers() {
	gcloud run services get-iam-policy "$FUNCTION_NAME" --project="$PROJECT_ID" --region="$REGION" \
		--flatten='bindings[].members' --filter='bindings.role=roles/run.invoker' \
		--format='value(bindings.members)' 2>"$WORK/error" </dev/null
}
if [[ $FUNCTION_EXISTS == true && $PUBLIC != true ]]; then
	members=$(invokers) || die "cannot read who may call $FUNCTION_NAME, so cannot make sure it is \
not public before its key check goes: $(first_line "$(<"$WORK/error")")"
	for member in "${PUBLIC_MEMBERS[@]}"; do
		if [[ $'\n'$members$'\n' == *$'\n'"$member"$'\n'* ]]; then
			say "Closing $FUNCTION_NAME to $member before deploying the revision without a key check"
			run gcloud functions remove-invoker-policy-binding "$FUNCTION_NAME" --project="$PROJECT_ID" \
				--region="$REGION" --member="$member" >/dev/null
		fi
	done
fi

say ""
say "Deploying $FUNCTION_NAME (the environment file holds the function settings above)"
run gcloud functions deploy "$FUNCTION_NAME" --gen2 --project="$PROJECT_ID" --region="$REGION" \
	--runtime="$RUNTIME" --source=. --entry-point=tiktok_events --trigger-http \
	--service-account="$SERVICE_ACCOUNT" "${BUILD_FLAGS[@]}" --env-vars-file="$ENV_FILE" \
	--memory="$MEMORY" --cpu="$CPU" --timeout="$TIMEOUT" --max-instances="$MAX_INSTANCES" \
	--concurrency="$CONCURRENCY" --quiet

if [[ $PUBLIC == true ]]; then
	members=""
	if [[ $FUNCTION_EXISTS == true ]]; then members=$(invokers) || members=""; fi
	if [[ $'\n'$members$'\n' != *$'\n'allUsers$'\n'* ]]; then
		say "Opening $FUNCTION_NAME to allUsers (its revision checks X-Api-Key)"
		run gcloud functions add-invoker-policy-binding "$FUNCTION_NAME" --project="$PROJECT_ID" \
			--region="$REGION" --member=allUsers >/dev/null
	fi
fi

URL='https://FUNCTION-URL'
if [[ $DRY_RUN_DEPLOY != true || $FUNCTION_EXISTS == true ]]; then
	URL=$(gcloud functions describe "$FUNCTION_NAME" --project="$PROJECT_ID" --region="$REGION" \
		--format='value(serviceConfig.uri)' </dev/null)
fi

# ---- durable delivery: the push subscription to URL/pubsub --------------------------------------
if [[ $DURABLE == true ]]; then
	say ""
	say "Letting $PUSH_SERVICE_ACCOUNT call $FUNCTION_NAME (and no other service)"
	run gcloud functions add-invoker-policy-binding "$FUNCTION_NAME" --project="$PROJECT_ID" \
		--region="$REGION" --member="serviceAccount:$PUSH_SERVICE_ACCOUNT" >/dev/null
	# The push token's audience is the function's URL: what Cloud Run checks in IAM mode, and
	# the function's default PUBSUB_PUSH_AUDIENCE in public mode.
	PUSH_OPTIONS=(
		--push-endpoint="$URL/pubsub" --push-auth-service-account="$PUSH_SERVICE_ACCOUNT"
		--push-auth-token-audience="$URL" --min-retry-delay=10s --max-retry-delay=600s
		--dead-letter-topic="projects/$PROJECT_ID/topics/$DEAD_LETTER_TOPIC"
		--max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS" --ack-deadline="$ACK_DEADLINE"
		--message-retention-duration=7d --expiration-period=never
	)
	put_subscription "$PUSH_SUBSCRIPTION" "$RETRY_TOPIC" "${PUSH_OPTIONS[@]}"
	say "Letting Pub/Sub's service agent take dead letters out of $PUSH_SUBSCRIPTION"
	grant_pubsub subscriptions "$PUSH_SUBSCRIPTION" "serviceAccount:$PUBSUB_AGENT" roles/pubsub.subscriber
fi

if [[ $DRY_RUN_DEPLOY == true ]]; then
	cat <<EOF

Dry run: nothing was changed. Without --dry-run, the commands marked + above would run, and
$FUNCTION_NAME would answer at $URL
EOF
	exit 0
fi

cat <<EOF

Deployed: $URL
  health:        $URL/health
  routes:        POST $URL/commandersact, $URL/ga4, $URL/tiktok
EOF
if [[ $MONITORING == true ]]; then
	cat <<EOF
  dashboard:     https://console.cloud.google.com/monitoring/dashboards/custom/$FUNCTION_NAME?project=$PROJECT_ID
EOF
fi
if [[ $DURABLE == true ]]; then
	cat <<EOF
  durable:       what TikTok does not take in time waits in $RETRY_TOPIC ($PUSH_SUBSCRIPTION pushes it to /pubsub)
  dead letters:  kept 7 days in $DEAD_LETTER_SUBSCRIPTION; once the cause is fixed, replay them:
                 python -m service.replay --project=$PROJECT_ID --subscription=$DEAD_LETTER_SUBSCRIPTION --topic=$RETRY_TOPIC
EOF
fi
if [[ $PUBLIC != true ]]; then
	cat <<EOF

Let a caller in (a service account or a user; gen2 functions use Cloud Run's invoker role):
  gcloud functions add-invoker-policy-binding $FUNCTION_NAME --project=$PROJECT_ID --region=$REGION \\
    --member=serviceAccount:CALLER@$PROJECT_ID.iam.gserviceaccount.com   # or user:you@example.com
  (this grants roles/run.invoker on the function's Cloud Run service)

Try it with an identity token, in dry run (nothing is sent to TikTok):
  curl -s "$URL/commandersact?dry_run=true" \\
    -H "Authorization: Bearer \$(gcloud auth print-identity-token)" \\
    -H 'Content-Type: application/json' --data @examples/commandersact-purchase.json
EOF
else
	read_key="gcloud secrets versions access latest --secret=$API_KEY_SECRET_ID --project=$PROJECT_ID"
	cat <<EOF

Public mode: anyone can reach the URL, and every request but /health needs the header X-Api-Key.
Try it in dry run (nothing is sent to TikTok):
  curl -s "$URL/commandersact?dry_run=true" \\
    -H "X-Api-Key: \$($read_key)" \\
    -H 'Content-Type: application/json' --data @examples/commandersact-purchase.json
EOF
	if [[ -n $NEW_API_KEY && -t 1 ]]; then
		cat <<EOF

The new caller key (give it to the sender as header X-Api-Key; read it again later with
$read_key):
  $NEW_API_KEY
EOF
	elif [[ -n $NEW_API_KEY ]]; then
		cat <<EOF

A new caller key is stored in $API_KEY_SECRET_ID (not shown: this output is not a terminal).
Read it with: $read_key
EOF
	fi
fi
cat <<EOF

Before going live: set TIKTOK_TEST_EVENT_CODE in the settings file (Events Manager > Test
Events), re-run deploy.sh, check the events there, then remove that line and re-run deploy.sh:
it shows "- TIKTOK_TEST_EVENT_CODE" and no other change.
EOF
