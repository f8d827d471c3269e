#!/usr/bin/env node
// Runs the sandboxed code of a server-side GTM tag template in Node, against fakes of the sGTM
// APIs it requires, with real HTTP (Node's http module) for sendHttpRequest.
//
// Words used here: the *template* is a .tpl file as the server container imports it; its *code*
// is the ___SANDBOXED_JS_FOR_SERVER___ section, run as sGTM runs it: as the body of a function
// of `data` (the tag's fields, plus gtmOnSuccess and gtmOnFailure) and `require`. Its
// *permissions* are the ___SERVER_PERMISSIONS___ section: each fake checks its API's permission
// as sGTM does and throws on a refusal, so the code can do only what the template declares.
// A *scenario* (JSON on stdin) gives the fields, the event data, the request's cookies, whether
// the container is in preview (`debug`, default true: logging is declared for debug only), and
// `extraUrlPatterns`: URL patterns allowed besides the declared ones (a test's loopback server
// standing in for the deployed function). The *report* (JSON on stdout) says what happened:
// the outcome (gtmOnSuccess, gtmOnFailure, a thrown error, or nothing), the HTTP requests and
// their answers, the cookies set and the log lines.
//
//   node harness.js TEMPLATE run < scenario.json
//   node harness.js TEMPLATE allowed URL...   whether the declared permission allows each URL
//   node harness.js TEMPLATE tests            the template's own ___TESTS___ scenarios, under a
//                                             fake of sGTM's test API (mock, assertApi, …)
//
// Any API the code requires that has no fake here makes the run fail, naming it.

'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');

function sections(text) {
  const found = {};
  let name = null;
  for (const line of text.split('\n')) {
    const header = /^___([A-Z_]+)___$/.exec(line);
    if (header) {
      name = header[1];
      found[name] = [];
    } else if (name) {
      found[name].push(line);
    }
  }
  for (const key of Object.keys(found)) found[key] = found[key].join('\n').trim();
  return found;
}

// A permission parameter value: 1 string, 2 list, 3 map, 8 boolean.
function paramValue(value) {
  switch (value.type) {
    case 1:
      return value.string;
    case 2:
      return (value.listItem || []).map(paramValue);
    case 3: {
      const map = {};
      value.mapKey.forEach((key, i) => (map[paramValue(key)] = paramValue(value.mapValue[i])));
      return map;
    }
    case 8:
      return value.boolean;
    default:
      throw new Error('unknown permission value type ' + value.type);
  }
}

function permissionsOf(json) {
  const permissions = {};
  for (const entry of JSON.parse(json)) {
    const params = {};
    for (const param of entry.instance.param || []) params[param.key] = paramValue(param.value);
    permissions[entry.instance.key.publicId] = params;
  }
  return permissions;
}

class PermissionError extends Error {}

function refuse(permission, what) {
  throw new PermissionError('permission ' + permission + ' refuses ' + what);
}

// Our reading of sGTM's URL patterns: scheme and host (optionally *. for any subdomain, and a
// port) must match; a path ending in * or / matches as a prefix, any other path exactly.
function urlMatches(pattern, address) {
  const p = /^([a-z]+):\/\/([^/]+)(\/.*)$/.exec(pattern);
  let url;
  try {
    url = new URL(address);
  } catch (error) {
    return false;
  }
  if (!p || url.protocol !== p[1] + ':') return false;
  const host = p[2];
  const hostOk = host.startsWith('*.')
    ? url.host.endsWith(host.slice(1)) && url.host.length > host.length - 1
    : url.host === host;
  if (!hostOk) return false;
  const path = p[3];
  const target = url.pathname + url.search;
  if (path.endsWith('*')) return target.startsWith(path.slice(0, -1));
  if (path.endsWith('/')) return target.startsWith(path);
  return url.pathname === path;
}

function allowedUrl(permissions, extraPatterns, address) {
  const sendHttp = permissions.send_http;
  if (!sendHttp) return false;
  if (sendHttp.allowedUrls === 'any') return true;
  const patterns = (sendHttp.urls || []).concat(extraPatterns || []);
  return patterns.some((pattern) => urlMatches(pattern, address));
}

function getType(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function parseUrl(address) {
  let url;
  try {
    url = new URL(String(address));
  } catch (error) {
    return undefined;
  }
  const searchParams = {};
  for (const [key, value] of url.searchParams) {
    if (!(key in searchParams)) searchParams[key] = value;
    else if (Array.isArray(searchParams[key])) searchParams[key].push(value);
    else searchParams[key] = [searchParams[key], value];
  }
  return {
    href: url.href,
    origin: url.origin,
    protocol: url.protocol,
    username: url.username,
    password: url.password,
    host: url.host,
    hostname: url.hostname,
    port: url.port,
    pathname: url.pathname,
    search: url.search,
    hash: url.hash,
    searchParams: searchParams,
  };
}

// The sGTM APIs the code may require, each checking its permission; `report` collects what
// they did.
function makeFakes(permissions, scenario, report) {
  const cookieNames = permissions.get_cookies || {};
  const allowedCookies = (permissions.set_cookies || {}).allowedCookies || [];
  return {
    JSON: { parse: (text) => JSON.parse(text), stringify: (value) => JSON.stringify(value) },
    getAllEventData: () => {
      if (!permissions.read_event_data) refuse('read_event_data', 'reading event data');
      return JSON.parse(JSON.stringify(scenario.eventData || {}));
    },
    getCookieValues: (name) => {
      const open = cookieNames.cookieAccess === 'any';
      if (!open && !(cookieNames.cookieNames || []).includes(name)) refuse('get_cookies', name);
      return ((scenario.cookies || {})[name] || []).slice();
    },
    setCookie: (name, value, options) => {
      const opts = options || {};
      const ok = allowedCookies.some(
        (rule) =>
          (rule.name === '*' || rule.name === name) &&
          (rule.domain === '*' || rule.domain === opts.domain) &&
          (rule.path === '*' || rule.path === opts.path) &&
          (rule.secure === 'any' || (rule.secure === 'secure') === (opts.secure === true)) &&
          (rule.session === 'any' ||
            (rule.session === 'non_session') === ('max-age' in opts || 'expires' in opts))
      );
      if (!ok) refuse('set_cookies', name);
      report.cookiesSet.push({ name: name, value: value, options: opts });
    },
    getType: getType,
    logToConsole: (...parts) => {
      const where = (permissions.logging || {}).environments;
      if (!where) refuse('logging', 'logToConsole');
      if (where === 'all' || scenario.debug !== false) report.logs.push(parts.map(String).join(' '));
    },
    makeInteger: (value) => {
      const number = Number(value);
      return Number.isFinite(number) ? Math.trunc(number) : NaN;
    },
    makeString: (value) => String(value),
    parseUrl: parseUrl,
    sendHttpRequest: (address, options, body) => {
      if (typeof options === 'function') throw new Error('the callback form is not faked here');
      if (!allowedUrl(permissions, scenario.extraUrlPatterns, address)) {
        refuse('send_http', address);
      }
      const opts = options || {};
      const record = {
        url: address,
        method: opts.method || 'GET',
        headers: opts.headers || {},
        timeout: opts.timeout,
        body: body,
      };
      report.requests.push(record);
      return new Promise((resolve, reject) => {
        const client = address.startsWith('https:') ? https : http;
        const request = client.request(address, { method: record.method, headers: record.headers });
        if (opts.timeout) {
          request.setTimeout(opts.timeout, () => {
            record.problem = 'timed_out';
            request.destroy();
            reject({ reason: 'timed_out' });
          });
        }
        request.on('error', () => {
          record.problem = record.problem || 'failed';
          reject({ reason: 'failed' });
        });
        request.on('response', (response) => {
          const chunks = [];
          response.on('data', (chunk) => chunks.push(chunk));
          response.on('end', () => {
            record.status = response.statusCode;
            record.answer = Buffer.concat(chunks).toString('utf8');
            resolve({ statusCode: response.statusCode, headers: response.headers, body: record.answer });
          });
        });
        request.end(body === undefined ? undefined : String(body));
      });
    },
  };
}

function emptyReport() {
  return { outcome: 'none', calls: [], requests: [], cookiesSet: [], logs: [], error: null };
}

function run(template, scenario) {
  const permissions = permissionsOf(template.SERVER_PERMISSIONS);
  const report = emptyReport();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(guard);
    // Exit at once: an idle keep-alive socket must not hold the run open.
    process.stdout.write(JSON.stringify(report) + '\n', () => process.exit(0));
  };
  const guard = setTimeout(finish, scenario.waitMs || 60000);
  const ended = (name) => () => {
    report.calls.push(name);
    if (report.outcome === 'none') report.outcome = name === 'gtmOnSuccess' ? 'success' : 'failure';
    setTimeout(finish, 50); // a second call, if any, is reported too
  };
  const fakes = makeFakes(permissions, scenario, report);
  const requireFake = (name) => {
    if (!(name in fakes)) throw new Error('the harness has no fake of ' + name);
    return fakes[name];
  };
  const data = Object.assign({}, scenario.data, {
    gtmOnSuccess: ended('gtmOnSuccess'),
    gtmOnFailure: ended('gtmOnFailure'),
  });
  try {
    new Function('data', 'require', template.SANDBOXED_JS_FOR_SERVER)(data, requireFake);
  } catch (error) {
    report.outcome = report.outcome === 'none' ? 'error' : report.outcome;
    report.error = error.message;
    finish();
  }
}

// The ___TESTS___ section, in the one YAML shape this template writes: `scenarios:`, then for
// each `- name: …` and `  code: |-` with its lines indented by four spaces; then `setup: |-`
// with its lines indented by two. Anything else is an error, never a silent skip.
function scenariosOf(text) {
  const scenarios = [];
  let setup = null;
  let block = null;
  const lines = text.split('\n');
  if (lines[0] !== 'scenarios:') throw new Error('___TESTS___ must open with scenarios:');
  for (const line of lines.slice(1)) {
    const name = /^- name: (.+)$/.exec(line);
    if (name) {
      scenarios.push({ name: name[1], code: [] });
      block = null;
    } else if (line === '  code: |-' && scenarios.length) {
      block = { lines: scenarios[scenarios.length - 1].code, indent: '    ' };
    } else if (line === 'setup: |-') {
      setup = [];
      block = { lines: setup, indent: '  ' };
    } else if (block && (line.startsWith(block.indent) || line.trim() === '')) {
      block.lines.push(line.slice(block.indent.length));
    } else {
      throw new Error('___TESTS___: unexpected line ' + JSON.stringify(line));
    }
  }
  return {
    setup: (setup || []).join('\n'),
    scenarios: scenarios.map((s) => ({ name: s.name, code: s.code.join('\n') })),
  };
}

function deepEqual(a, b) {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const sorted = {};
    for (const key of Object.keys(value).sort()) sorted[key] = canonical(value[key]);
    return sorted;
  }
  return value;
}

// One scenario under a fake of sGTM's test API (mock, assertApi, assertThat, runCode, fail,
// callLater): resolves to the list of its failures (empty when it passes).
function runScenario(template, permissions, setup, scenario) {
  return new Promise((resolve) => {
    const failures = [];
    const mocks = {};
    const calls = {};
    const later = [];
    const report = emptyReport();
    const fakes = makeFakes(permissions, {}, report);
    fakes.sendHttpRequest = () => {
      throw new Error('sendHttpRequest is not mocked in this scenario');
    };
    const record = (name, args) => (calls[name] = calls[name] || []).push(args);
    const requireForCode = (name) => {
      if (!(name in fakes)) throw new Error('the harness has no fake of ' + name);
      if (typeof fakes[name] !== 'function') return fakes[name];
      return (...args) => {
        record(name, args);
        if (!(name in mocks)) return fakes[name](...args);
        return typeof mocks[name] === 'function' ? mocks[name](...args) : mocks[name];
      };
    };
    const check = (ok, message) => {
      if (!ok) throw new Error(message);
    };
    const api = {
      mock: (name, value) => (mocks[name] = value),
      assertApi: (name) => ({
        wasCalled: () => check(calls[name], name + ' was not called'),
        wasNotCalled: () => check(!calls[name], name + ' was called'),
        wasCalledWith: (...args) =>
          check(
            (calls[name] || []).some((made) => deepEqual(made, args)),
            name + ' was not called with ' + JSON.stringify(args)
          ),
      }),
      assertThat: (subject) => ({
        isEqualTo: (expected) =>
          check(deepEqual(subject, expected), JSON.stringify(subject) + ' is not ' + JSON.stringify(expected)),
        isUndefined: () => check(subject === undefined, JSON.stringify(subject) + ' is defined'),
        isDefined: () => check(subject !== undefined, 'undefined'),
      }),
      runCode: (data) => {
        const withCallbacks = Object.assign({}, data, {
          gtmOnSuccess: () => record('gtmOnSuccess', []),
          gtmOnFailure: () => record('gtmOnFailure', []),
        });
        new Function('data', 'require', template.SANDBOXED_JS_FOR_SERVER)(withCallbacks, requireForCode);
      },
      fail: (message) => check(false, message),
      require: (name) => {
        if (name === 'JSON') return fakes.JSON;
        if (name === 'Promise') return { create: (executor) => new Promise(executor) };
        if (name === 'callLater') return (fn) => later.push(fn);
        throw new Error('the test harness has no ' + name);
      },
    };
    try {
      const names = Object.keys(api);
      new Function(...names, setup + '\n' + scenario.code)(...names.map((name) => api[name]));
    } catch (error) {
      failures.push(error.message);
    }
    // callLater runs its functions once the promises of the run have settled.
    setTimeout(() => {
      for (const fn of later) {
        try {
          fn();
        } catch (error) {
          failures.push(error.message);
        }
      }
      resolve(failures);
    }, 10);
  });
}

async function tests(template) {
  const permissions = permissionsOf(template.SERVER_PERMISSIONS);
  const { setup, scenarios } = scenariosOf(template.TESTS);
  const results = [];
  for (const scenario of scenarios) {
    results.push({ name: scenario.name, failures: await runScenario(template, permissions, setup, scenario) });
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

function main() {
  const [path, command, ...rest] = process.argv.slice(2);
  const template = sections(fs.readFileSync(path, 'utf8'));
  if (command === 'allowed') {
    const permissions = permissionsOf(template.SERVER_PERMISSIONS);
    const verdicts = {};
    for (const address of rest) verdicts[address] = allowedUrl(permissions, [], address);
    process.stdout.write(JSON.stringify(verdicts) + '\n');
  } else if (command === 'run') {
    run(template, JSON.parse(fs.readFileSync(0, 'utf8')));
  } else if (command === 'tests') {
    tests(template);
  } else {
    process.stderr.write('usage: harness.js TEMPLATE run < scenario.json | allowed URL... | tests\n');
    process.exitCode = 2;
  }
}

main();
