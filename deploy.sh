#!/usr/bin/env bash
# Deploys tiktok-events as a Cloud Function (2nd gen) with its own service account and the TikTok
# token in Secret Manager. Safe to run again: it creates what is missing and re-states the rest.
#
#   printf '%s' "$TIKTOK_TOKEN" | ./deploy.sh   # first deploy: the token goes to Secret Manager
#   ./deploy.sh                                 # later deploys: the secret already has a version
#   ./deploy.sh --dry-run                       # print every gcloud command instead of running it
#
# Settings come from the environment (defaults below, all printed before anything happens).
# Function settings (TIKTOK_PIXEL_ID, TIKTOK_EVENT_MAPPING, ...) that are set in the environment
# are passed to the function in an --env-vars-file, which replaces every variable the function had:
# a re-deploy states the whole configuration. The token itself never appears on a command line.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: ./deploy.sh [--dry-run]   (a TikTok access token may be piped on stdin)

Deployment settings (environment variables):
  PROJECT_ID          Google Cloud project (else GOOGLE_CLOUD_PROJECT, else gcloud's project)
  REGION              europe-west1             FUNCTION_NAME  tiktok-events
  SECRET_ID           tiktok-access-token      SERVICE_ACCOUNT tiktok-events (an id or an e-mail)
  RUNTIME             python313                MEMORY 512Mi   CPU 1   TIMEOUT 60s
  MAX_INSTANCES       10                       CONCURRENCY 20 THREADS (= CONCURRENCY)
  PUBLIC_WITH_API_KEY false: callers need an IAM identity; true: public, callers send X-Api-Key
  API_KEY_SECRET_ID   tiktok-events-api-key    (the secret holding the caller key, public mode)
Function settings: every TIKTOK_* variable of the README's configuration table that is set.
EOF
}

# --source=. uploads the directory of this script, wherever it is run from.
HERE=${BASH_SOURCE[0]%/*}
if [[ $HERE == "${BASH_SOURCE[0]}" ]]; then HERE=.; fi
cd "$HERE"

DRY_RUN_DEPLOY=false
for argument in "$@"; do
	case "$argument" in
	--dry-run) DRY_RUN_DEPLOY=true ;;
	-h | --help)
		usage
		exit 0
		;;
	*)
		usage >&2
		exit 2
		;;
	esac
done

# The function's own settings (README "Configuration") that deploy.sh passes on when they are set.
FUNCTION_SETTINGS=(
	TIKTOK_PIXEL_ID TIKTOK_APP_ID TIKTOK_OFFLINE_EVENT_SET_ID TIKTOK_CRM_EVENT_SET_ID
	TIKTOK_TEST_EVENT_CODE TIKTOK_EVENT_MAPPING TIKTOK_VIEW_CONTENT_EVENTS
	TIKTOK_AUTODISCOVER_EVENT_SOURCE TIKTOK_SMART_MAPPING TIKTOK_GA4_PURCHASE_EVENT
	TIKTOK_CONSENT_CATEGORIES TIKTOK_GA4_REQUIRE_AD_STORAGE TIKTOK_DEFAULT_PHONE_REGION
	TIKTOK_TOKEN_TTL_SECONDS TIKTOK_API_URL TIKTOK_RETRY_DEADLINE_SECONDS
	DRY_RUN MAX_BODY_BYTES ADMISSION_BUDGET_BYTES LOG_LEVEL
)
# Set by deploy.sh itself: GOOGLE_CLOUD_PROJECT, TIKTOK_ACCESS_TOKEN_SECRET, THREADS and, in
# public mode, API_KEY_SECRET (see "setting" below).
# Never deployed: clear-text credentials belong in Secret Manager, and the endpoint override
# (anonymous credentials) is for emulators and tests only.
LOCAL_ONLY_SETTINGS=(TIKTOK_ACCESS_TOKEN API_KEY SECRET_MANAGER_ENDPOINT)

say() { printf '%s\n' "$*" >&2; }
die() {
	say "deploy.sh: $*"
	exit 1
}

# Prints a command as a shell line; runs it unless --dry-run. Its stdin is the caller's.
run() {
	printf '+' >&2
	printf ' %q' "$@" >&2
	printf '\n' >&2
	if [[ $DRY_RUN_DEPLOY == true ]]; then return 0; fi
	"$@"
}

# Prints a read-only check in a dry run, with what follows from it.
show_check() {
	local note=$1
	shift
	printf '+' >&2
	printf ' %q' "$@" >&2
	printf '   # %s\n' "$note" >&2
}

# A read-only check. In a dry run nothing is asked, and the check counts as "missing", so the
# commands that would create things are printed too.
exists() {
	if [[ $DRY_RUN_DEPLOY == true ]]; then
		show_check "when this finds nothing, the next command runs" "$@"
		return 1
	fi
	"$@" >/dev/null 2>&1
}

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

# A double-quoted YAML (and JSON) string: commas, quotes, braces and newlines survive intact.
quoted() {
	local value=$1 code character
	value=${value//\\/\\\\}
	value=${value//\"/\\\"}
	value=${value//$'\n'/\\n}
	value=${value//$'\r'/\\r}
	value=${value//$'\t'/\\t}
	for code in 01 02 03 04 05 06 07 08 0b 0c 0e 0f 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f; do
		printf -v character '%b' "\\x$code"
		value=${value//"$character"/\\u00$code}
	done
	printf '"%s"' "$value"
}

is_true() { [[ ${1,,} == true || $1 == 1 || ${1,,} == yes ]]; }

# The token, when one is piped in. Read with a builtin and written to gcloud's stdin with one:
# it is never an argument of any process, and never printed.
TOKEN=""
if [[ ! -t 0 ]]; then
	IFS= read -r -d '' TOKEN || true
	TOKEN=${TOKEN//[$' \t\r\n']/}
fi

# ---- settings -----------------------------------------------------------------------------------
if [[ -z ${PROJECT_ID:-} ]]; then
	PROJECT_ID=${GOOGLE_CLOUD_PROJECT:-}
fi
if [[ -z ${PROJECT_ID:-} ]]; then
	# Reads gcloud's local configuration only (also in a dry run): no change, no network.
	PROJECT_ID=$(gcloud config get-value project 2>/dev/null || true)
fi
[[ -n $PROJECT_ID ]] || die "no project: set PROJECT_ID (or run: gcloud config set project PROJECT)"

REGION=${REGION:-europe-west1}
FUNCTION_NAME=${FUNCTION_NAME:-tiktok-events}
SECRET_ID=${SECRET_ID:-tiktok-access-token}
SERVICE_ACCOUNT=${SERVICE_ACCOUNT:-tiktok-events}
if [[ $SERVICE_ACCOUNT != *@* ]]; then
	SERVICE_ACCOUNT="$SERVICE_ACCOUNT@$PROJECT_ID.iam.gserviceaccount.com"
fi
RUNTIME=${RUNTIME:-python313}
MEMORY=${MEMORY:-512Mi}
CPU=${CPU:-1}
TIMEOUT=${TIMEOUT:-60s}
MAX_INSTANCES=${MAX_INSTANCES:-10}
CONCURRENCY=${CONCURRENCY:-20}
THREADS=${THREADS:-$CONCURRENCY}
PUBLIC_WITH_API_KEY=${PUBLIC_WITH_API_KEY:-false}
API_KEY_SECRET_ID=${API_KEY_SECRET_ID:-$FUNCTION_NAME-api-key}
if is_true "$PUBLIC_WITH_API_KEY"; then PUBLIC=true; else PUBLIC=false; fi

TOKEN_SECRET_NAME="projects/$PROJECT_ID/secrets/$SECRET_ID/versions/latest"
API_KEY_SECRET_NAME="projects/$PROJECT_ID/secrets/$API_KEY_SECRET_ID/versions/latest"

say "Deploying with (set any of these in the environment to change it):"
for name in PROJECT_ID REGION FUNCTION_NAME SECRET_ID SERVICE_ACCOUNT RUNTIME MEMORY CPU TIMEOUT \
	MAX_INSTANCES CONCURRENCY THREADS PUBLIC_WITH_API_KEY; do
	say "  $name=${!name}"
done
if [[ $PUBLIC == true ]]; then say "  API_KEY_SECRET_ID=$API_KEY_SECRET_ID"; fi

# The function's environment, in a file so that JSON values with commas survive.
ENV_FILE=$(mktemp)
trap 'rm -f "$ENV_FILE"' EXIT
setting() {
	printf '%s: %s\n' "$1" "$(quoted "$2")" >>"$ENV_FILE"
	say "  $1=$2"
}
say "Function settings (all the function will have; the others take their defaults):"
setting GOOGLE_CLOUD_PROJECT "$PROJECT_ID"
setting TIKTOK_ACCESS_TOKEN_SECRET "$TOKEN_SECRET_NAME"
setting THREADS "$THREADS"
if [[ $PUBLIC == true ]]; then setting API_KEY_SECRET "$API_KEY_SECRET_NAME"; fi
for name in "${FUNCTION_SETTINGS[@]}"; do
	if [[ -n ${!name:-} ]]; then setting "$name" "${!name}"; fi
done
for name in "${LOCAL_ONLY_SETTINGS[@]}"; do
	if [[ -n ${!name:-} ]]; then say "  ($name is set here but not deployed: local runs only)"; fi
done

# ---- APIs, identity, secrets --------------------------------------------------------------------
say ""
say "Enabling the APIs (Cloud Functions, Cloud Run, Cloud Build, Artifact Registry, Secret Manager, IAM)"
run gcloud services enable cloudfunctions.googleapis.com run.googleapis.com \
	cloudbuild.googleapis.com artifactregistry.googleapis.com secretmanager.googleapis.com \
	iam.googleapis.com --project="$PROJECT_ID"

if ! exists gcloud iam service-accounts describe "$SERVICE_ACCOUNT" --project="$PROJECT_ID"; then
	[[ $SERVICE_ACCOUNT == *"@$PROJECT_ID.iam.gserviceaccount.com" ]] ||
		die "service account $SERVICE_ACCOUNT not found (deploy.sh creates accounts of $PROJECT_ID only)"
	run gcloud iam service-accounts create "${SERVICE_ACCOUNT%%@*}" --project="$PROJECT_ID" \
		--display-name="tiktok-events runtime ($FUNCTION_NAME)"
fi

secret_exists() { exists gcloud secrets describe "$1" --project="$PROJECT_ID"; }

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

has_version() {
	local secret=$1 versions
	if [[ $DRY_RUN_DEPLOY == true ]]; then
		show_check "when this lists nothing, deploy.sh stops here" gcloud secrets versions list \
			"$secret" --project="$PROJECT_ID" --filter=state:ENABLED --limit=1 --format='value(name)'
		return 0
	fi
	versions=$(gcloud secrets versions list "$secret" --project="$PROJECT_ID" \
		--filter=state:ENABLED --limit=1 --format='value(name)')
	[[ -n $versions ]]
}

grant_access() {
	with_retries gcloud secrets add-iam-policy-binding "$1" --project="$PROJECT_ID" \
		--member="serviceAccount:$SERVICE_ACCOUNT" --role=roles/secretmanager.secretAccessor \
		--condition=None --quiet >/dev/null
}

if ! secret_exists "$SECRET_ID"; then create_secret "$SECRET_ID" tiktok-token; fi
if [[ -n $TOKEN ]]; then
	say "Adding the token from stdin as a new version of $SECRET_ID"
	add_version "$SECRET_ID" "$TOKEN"
fi
TOKEN=""
has_version "$SECRET_ID" || die "the secret $SECRET_ID has no enabled version, so the function \
could not send anything. Pipe the TikTok Events API access token into deploy.sh, e.g.
  printf '%s' \"\$TOKEN\" | ./deploy.sh        or        ./deploy.sh < token.txt
(Events Manager > your pixel > Settings > Generate Access Token)."
say "Letting $SERVICE_ACCOUNT read $SECRET_ID (and no other secret)"
grant_access "$SECRET_ID"

NEW_API_KEY=""
if [[ $PUBLIC == true ]]; then
	if ! secret_exists "$API_KEY_SECRET_ID"; then
		create_secret "$API_KEY_SECRET_ID" caller-key
		NEW_API_KEY=new
	elif ! has_version "$API_KEY_SECRET_ID"; then
		NEW_API_KEY=new
	fi
	if [[ -n $NEW_API_KEY ]]; then
		# 32 random bytes as hex: the caller key, stored once and shown once.
		NEW_API_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
		[[ $DRY_RUN_DEPLOY == true ]] && NEW_API_KEY='(a new random key)'
		say "Storing a new caller key in $API_KEY_SECRET_ID"
		add_version "$API_KEY_SECRET_ID" "$NEW_API_KEY"
	fi
	say "Letting $SERVICE_ACCOUNT read $API_KEY_SECRET_ID"
	grant_access "$API_KEY_SECRET_ID"
fi

# ---- deploy -------------------------------------------------------------------------------------
if [[ $PUBLIC == true ]]; then ACCESS=--allow-unauthenticated; else ACCESS=--no-allow-unauthenticated; fi
say ""
say "Deploying $FUNCTION_NAME (the environment file holds the function settings listed above)"
run gcloud functions deploy "$FUNCTION_NAME" --gen2 --project="$PROJECT_ID" --region="$REGION" \
	--runtime="$RUNTIME" --source=. --entry-point=tiktok_events --trigger-http "$ACCESS" \
	--service-account="$SERVICE_ACCOUNT" --env-vars-file="$ENV_FILE" \
	--memory="$MEMORY" --cpu="$CPU" --timeout="$TIMEOUT" --max-instances="$MAX_INSTANCES" \
	--concurrency="$CONCURRENCY" --quiet

if [[ $DRY_RUN_DEPLOY == true ]]; then
	URL='https://FUNCTION-URL'
	run gcloud functions describe "$FUNCTION_NAME" --project="$PROJECT_ID" --region="$REGION" \
		--format='value(serviceConfig.uri)'
else
	URL=$(gcloud functions describe "$FUNCTION_NAME" --project="$PROJECT_ID" --region="$REGION" \
		--format='value(serviceConfig.uri)')
fi

cat <<EOF

Deployed: $URL
  health:        $URL/health
  routes:        POST $URL/commandersact, $URL/ga4, $URL/tiktok
EOF
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
	cat <<EOF

Public mode: anyone can reach the URL, and every request but /health needs the header X-Api-Key.
Try it in dry run (nothing is sent to TikTok):
  curl -s "$URL/commandersact?dry_run=true" \\
    -H "X-Api-Key: \$(gcloud secrets versions access latest --secret=$API_KEY_SECRET_ID --project=$PROJECT_ID)" \\
    -H 'Content-Type: application/json' --data @examples/commandersact-purchase.json
EOF
	if [[ -n $NEW_API_KEY ]]; then
		cat <<EOF

The new caller key (shown this once; give it to the sender as header X-Api-Key, and read it
again later with: gcloud secrets versions access latest --secret=$API_KEY_SECRET_ID):
  $NEW_API_KEY
EOF
	fi
fi
cat <<EOF

Before going live: set TIKTOK_TEST_EVENT_CODE (Events Manager > Test Events), re-run deploy.sh,
check the events there, then unset it and re-run deploy.sh.
EOF
