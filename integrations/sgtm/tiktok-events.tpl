___INFO___

{
  "type": "TAG",
  "id": "cvt_temp_public_id",
  "version": 1,
  "securityGroups": [],
  "displayName": "tiktok-events (TikTok Events API function)",
  "categories": [
    "ADVERTISING",
    "CONVERSIONS"
  ],
  "brand": {
    "id": "tiktok_events_function",
    "displayName": "tiktok-events"
  },
  "description": "Sends the event data of this server container, with the TikTok cookies _ttp and ttclid, to your tiktok-events Cloud Function (route /ga4), which maps, hashes and delivers it to the TikTok Events API.",
  "containerContexts": [
    "SERVER"
  ]
}


___TEMPLATE_PARAMETERS___

[
  {
    "type": "TEXT",
    "name": "functionUrl",
    "displayName": "Function URL, ending in /ga4",
    "simpleValueType": true,
    "valueHint": "https://europe-west1-my-project.cloudfunctions.net/tiktok-events/ga4",
    "help": "The URL of your tiktok-events function with the route /ga4: the cloudfunctions.net URL followed by /tiktok-events/ga4, or the run.app URL followed by /ga4. The template may only call *.cloudfunctions.net and *.run.app: for a custom domain, add it to this template's permission 'Sends HTTP requests'.",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^https://[^/?#]+(/[^?#]*)?/ga4(\\?[^#]*)?$"
        ],
        "errorMessage": "An https URL whose path ends with /ga4."
      }
    ]
  },
  {
    "type": "TEXT",
    "name": "apiKey",
    "displayName": "Caller key (sent as X-Api-Key)",
    "simpleValueType": true,
    "help": "The function's caller key (deployed with PUBLIC_WITH_API_KEY=true: gcloud secrets versions access latest --secret=tiktok-events-api-key). A server container cannot mint Google ID tokens, so the function must be deployed in public mode behind this key.",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      }
    ]
  },
  {
    "type": "TEXT",
    "name": "timeoutMs",
    "displayName": "Timeout (milliseconds)",
    "simpleValueType": true,
    "defaultValue": "35000",
    "help": "How long to wait for the function's answer. The function retries TikTok for up to TIKTOK_RETRY_DEADLINE_SECONDS (20 s by default) before it answers: keep this above that deadline plus 15 s, or the tag fails for events that are in fact delivered.",
    "valueValidators": [
      {
        "type": "POSITIVE_NUMBER"
      }
    ]
  },
  {
    "type": "CHECKBOX",
    "name": "dryRun",
    "checkboxText": "Dry run: the function answers with the TikTok request bodies and sends nothing",
    "simpleValueType": true,
    "defaultValue": false,
    "help": "Sends the header X-Dry-Run: true. Use it with Preview to check what TikTok would receive, then untick it."
  }
]


___SANDBOXED_JS_FOR_SERVER___

// Sends this server container's event to the tiktok-events function (route /ga4).
//
// Words used here: the *event* is the event data the client built for this request (the GA4
// client's common event data); the *body* is the event plus the TikTok cookies, posted as JSON;
// the *click id* is TikTok's ttclid (from the page URL, else its cookie); the *ttp* is TikTok's
// _ttp cookie. Nothing of the event is logged: only the route and the HTTP status, or why no
// answer came.

const JSON = require('JSON');
const getAllEventData = require('getAllEventData');
const getCookieValues = require('getCookieValues');
const getType = require('getType');
const logToConsole = require('logToConsole');
const makeInteger = require('makeInteger');
const makeString = require('makeString');
const parseUrl = require('parseUrl');
const sendHttpRequest = require('sendHttpRequest');
const setCookie = require('setCookie');

const ROUTE = 'ga4';
const DEFAULT_TIMEOUT_MS = 35000;
// As TikTok's own tag keeps a click id: 30 days, the whole site, readable by the pixel.
const CLICK_ID_COOKIE_OPTIONS = {
  domain: 'auto',
  path: '/',
  'max-age': 2592000,
  secure: true,
  samesite: 'Lax',
  httpOnly: false
};

const url = makeString(data.functionUrl);
if (!endsWithRoute(url)) {
  logToConsole('tiktok-events: the function URL must end with /' + ROUTE);
  data.gtmOnFailure();
  return;
}

const event = getAllEventData();
const body = {};
for (const key in event) {
  body[key] = event[key];
}

const clickIdOfPage = queryValue(event['x-ttq-ct-page-url'] || event.page_location, 'ttclid');
if (clickIdOfPage) {
  setCookie('ttclid', clickIdOfPage, CLICK_ID_COOKIE_OPTIONS);
}
// The page's click id is the newest: it wins over the cookie, as in TikTok's own tag.
addUnlessGiven(body, 'x-ttq-ttclid', clickIdOfPage || firstCookie('ttclid'));
addUnlessGiven(body, 'x-ttq-ttp', firstCookie('_ttp'));

const headers = {
  'Content-Type': 'application/json',
  'X-Api-Key': makeString(data.apiKey)
};
if (data.dryRun) {
  headers['X-Dry-Run'] = 'true';
}

sendHttpRequest(url, { method: 'POST', headers: headers, timeout: timeoutMs() }, JSON.stringify(body))
  .then((answer) => {
    logToConsole('tiktok-events /' + ROUTE + ': HTTP ' + answer.statusCode);
    // 200, and also 207 (some events refused, the others sent) and 202: the function has them.
    if (answer.statusCode >= 200 && answer.statusCode < 300) {
      data.gtmOnSuccess();
    } else {
      data.gtmOnFailure();
    }
  })
  .catch((problem) => {
    logToConsole('tiktok-events /' + ROUTE + ': no answer (' + reasonOf(problem) + ')');
    data.gtmOnFailure();
  });

// https is required by the field and by the permission 'Sends HTTP requests'.
function endsWithRoute(address) {
  const parsed = parseUrl(address);
  if (!parsed) {
    return false;
  }
  const parts = parsed.pathname.split('/');
  return parts[parts.length - 1] === ROUTE;
}

// The first value of a query parameter of a URL, or undefined.
function queryValue(address, name) {
  if (getType(address) !== 'string') {
    return undefined;
  }
  const parsed = parseUrl(address);
  if (!parsed || !parsed.searchParams) {
    return undefined;
  }
  const value = parsed.searchParams[name];
  return present(getType(value) === 'array' ? value[0] : value);
}

function firstCookie(name) {
  const values = getCookieValues(name);
  return values && values.length ? present(values[0]) : undefined;
}

function present(value) {
  return getType(value) === 'string' && value !== '' ? value : undefined;
}

// The function reads a key as sent or flattened (x_ttq_ttp): a value under either is kept.
function addUnlessGiven(target, key, value) {
  const flattened = key.split('-').join('_');
  if (!value || isGiven(target[key]) || isGiven(target[flattened])) {
    return;
  }
  target[key] = value;
}

function isGiven(value) {
  return value !== undefined && value !== null && value !== '';
}

function timeoutMs() {
  const milliseconds = makeInteger(data.timeoutMs);
  return milliseconds > 0 ? milliseconds : DEFAULT_TIMEOUT_MS;
}

// Only sGTM's own words, so that nothing else can reach the log.
function reasonOf(problem) {
  const reason = problem && problem.reason;
  return reason === 'timed_out' ? 'timed_out' : 'failed';
}


___SERVER_PERMISSIONS___

[
  {
    "instance": {
      "key": {
        "publicId": "read_event_data",
        "versionId": "1"
      },
      "param": [
        {
          "key": "eventDataAccess",
          "value": {
            "type": 1,
            "string": "any"
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "get_cookies",
        "versionId": "1"
      },
      "param": [
        {
          "key": "cookieAccess",
          "value": {
            "type": 1,
            "string": "specific"
          }
        },
        {
          "key": "cookieNames",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "_ttp"
              },
              {
                "type": 1,
                "string": "ttclid"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "set_cookies",
        "versionId": "1"
      },
      "param": [
        {
          "key": "allowedCookies",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 3,
                "mapKey": [
                  {
                    "type": 1,
                    "string": "name"
                  },
                  {
                    "type": 1,
                    "string": "domain"
                  },
                  {
                    "type": 1,
                    "string": "path"
                  },
                  {
                    "type": 1,
                    "string": "secure"
                  },
                  {
                    "type": 1,
                    "string": "session"
                  }
                ],
                "mapValue": [
                  {
                    "type": 1,
                    "string": "ttclid"
                  },
                  {
                    "type": 1,
                    "string": "*"
                  },
                  {
                    "type": 1,
                    "string": "/"
                  },
                  {
                    "type": 1,
                    "string": "secure"
                  },
                  {
                    "type": 1,
                    "string": "non_session"
                  }
                ]
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "send_http",
        "versionId": "1"
      },
      "param": [
        {
          "key": "allowedUrls",
          "value": {
            "type": 1,
            "string": "specific"
          }
        },
        {
          "key": "urls",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "https://*.cloudfunctions.net/*"
              },
              {
                "type": 1,
                "string": "https://*.run.app/*"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "logging",
        "versionId": "1"
      },
      "param": [
        {
          "key": "environments",
          "value": {
            "type": 1,
            "string": "debug"
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  }
]


___TESTS___

scenarios:
- name: HTTP 200 calls gtmOnSuccess; the event is posted as JSON with the key
  code: |-
    answerWith(200);
    runCode(config);
    callLater(() => {
      assertApi('gtmOnSuccess').wasCalled();
      assertApi('gtmOnFailure').wasNotCalled();
      assertThat(sent.url).isEqualTo(config.functionUrl);
      assertThat(sent.options.method).isEqualTo('POST');
      assertThat(sent.options.timeout).isEqualTo(35000);
      assertThat(sent.options.headers['Content-Type']).isEqualTo('application/json');
      assertThat(sent.options.headers['X-Api-Key']).isEqualTo('test-caller-key');
      assertThat(sent.options.headers['X-Dry-Run']).isUndefined();
      assertThat(sent.body.event_name).isEqualTo('purchase');
      assertThat(sent.body.transaction_id).isEqualTo('T-1');
      assertThat(sent.body.user_data.email_address).isEqualTo(email);
    });
- name: HTTP 207 (some events refused, the others sent) calls gtmOnSuccess
  code: |-
    answerWith(207);
    runCode(config);
    callLater(() => {
      assertApi('gtmOnSuccess').wasCalled();
      assertApi('gtmOnFailure').wasNotCalled();
    });
- name: HTTP 202 calls gtmOnSuccess
  code: |-
    answerWith(202);
    runCode(config);
    callLater(() => {
      assertApi('gtmOnSuccess').wasCalled();
      assertApi('gtmOnFailure').wasNotCalled();
    });
- name: HTTP 503 calls gtmOnFailure
  code: |-
    answerWith(503);
    runCode(config);
    callLater(() => {
      assertApi('gtmOnFailure').wasCalled();
      assertApi('gtmOnSuccess').wasNotCalled();
    });
- name: HTTP 401 (wrong key) calls gtmOnFailure
  code: |-
    answerWith(401);
    runCode(config);
    callLater(() => {
      assertApi('gtmOnFailure').wasCalled();
      assertApi('gtmOnSuccess').wasNotCalled();
    });
- name: A timeout calls gtmOnFailure
  code: |-
    mock('sendHttpRequest', (url, options, body) => {
      return Promise.create((resolve, reject) => reject({ reason: 'timed_out' }));
    });
    runCode(config);
    callLater(() => {
      assertApi('gtmOnFailure').wasCalled();
      assertApi('gtmOnSuccess').wasNotCalled();
    });
- name: The _ttp and ttclid cookies are added as x-ttq-ttp and x-ttq-ttclid
  code: |-
    answerWith(200);
    mock('getCookieValues', (name) => cookies[name] || []);
    runCode(config);
    callLater(() => {
      assertThat(sent.body['x-ttq-ttp']).isEqualTo('ttp-cookie-value');
      assertThat(sent.body['x-ttq-ttclid']).isEqualTo('E.C.P.from-cookie');
      assertApi('setCookie').wasNotCalled();
    });
- name: Values already in the event data win over the cookies
  code: |-
    answerWith(200);
    mock('getCookieValues', (name) => cookies[name] || []);
    mock('getAllEventData', {
      event_name: 'purchase',
      'x-ttq-ttp': 'ttp-from-event',
      x_ttq_ttclid: 'E.C.P.from-event'
    });
    runCode(config);
    callLater(() => {
      assertThat(sent.body['x-ttq-ttp']).isEqualTo('ttp-from-event');
      assertThat(sent.body['x-ttq-ttclid']).isUndefined();
      assertThat(sent.body.x_ttq_ttclid).isEqualTo('E.C.P.from-event');
    });
- name: A ttclid in the page URL is sent and kept in a 30-day cookie
  code: |-
    answerWith(200);
    mock('getCookieValues', (name) => cookies[name] || []);
    mock('getAllEventData', {
      event_name: 'page_view',
      page_location: 'https://shop.example.com/?utm_source=tiktok&ttclid=E.C.P.from-page'
    });
    runCode(config);
    assertApi('setCookie').wasCalledWith('ttclid', 'E.C.P.from-page', {
      domain: 'auto',
      path: '/',
      'max-age': 2592000,
      secure: true,
      samesite: 'Lax',
      httpOnly: false
    });
    callLater(() => {
      assertThat(sent.body['x-ttq-ttclid']).isEqualTo('E.C.P.from-page');
    });
- name: The dry-run box sends X-Dry-Run
  code: |-
    answerWith(200);
    config.dryRun = true;
    runCode(config);
    callLater(() => {
      assertThat(sent.options.headers['X-Dry-Run']).isEqualTo('true');
    });
- name: A URL without the /ga4 route fails without sending
  code: |-
    answerWith(200);
    config.functionUrl = 'https://europe-west1-shop.cloudfunctions.net/tiktok-events';
    runCode(config);
    assertApi('sendHttpRequest').wasNotCalled();
    assertApi('gtmOnFailure').wasCalled();
- name: The log holds the route and the status, nothing of the event
  code: |-
    answerWith(200);
    const logged = [];
    mock('logToConsole', (line) => {
      logged.push(line);
    });
    runCode(config);
    callLater(() => {
      assertThat(logged).isEqualTo(['tiktok-events /ga4: HTTP 200']);
    });
setup: |-
  const JSON = require('JSON');
  const Promise = require('Promise');
  const callLater = require('callLater');

  const email = 'jane.sample@example.com';
  const config = {
    functionUrl: 'https://europe-west1-shop.cloudfunctions.net/tiktok-events/ga4',
    apiKey: 'test-caller-key',
    timeoutMs: '35000',
    dryRun: false
  };
  const cookies = { _ttp: ['ttp-cookie-value'], ttclid: ['E.C.P.from-cookie'] };
  let sent;

  function answerWith(statusCode) {
    mock('sendHttpRequest', (url, options, body) => {
      sent = { url: url, options: options, body: JSON.parse(body) };
      return Promise.create((resolve) => resolve({ statusCode: statusCode, headers: {}, body: '{}' }));
    });
  }

  mock('getAllEventData', {
    event_name: 'purchase',
    page_location: 'https://shop.example.com/checkout/confirmation',
    transaction_id: 'T-1',
    value: 19.95,
    currency: 'EUR',
    user_data: { email_address: email, phone_number: '+33600000001' }
  });
  mock('getCookieValues', (name) => []);
