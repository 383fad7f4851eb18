import { readFile } from 'node:fs/promises';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { expect } from 'chai';
import { image } from '../support/fixtures.js';
import { getJson, postJson, startService, type TestService } from '../support/service.js';

const KEY = 'openapi-test-key';
const DOC_ID = 'https://facedetect.test/openapi.json';

/** JSON Pointer escaping, for paths like `/jobs/{id}` and media types like `application/json`. */
const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

describe('OpenAPI document: GET /openapi.json and GET /docs', function () {
  let svc: TestService;
  let doc: any;
  let ajv: Ajv2020;
  let obamaB64: string;

  before(async () => {
    svc = await startService({ API_KEYS: KEY, MAX_IMAGE_BYTES: '400000' });
    obamaB64 = (await readFile(image('obama.jpg'))).toString('base64');
    const res = await getJson(`${svc.url}/openapi.json`);
    expect(res.status).to.equal(200);
    doc = res.body;
    // The whole document is one schema resource, so `#/components/schemas/…` refs resolve inside it.
    ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats.default(ajv);
    ajv.addSchema({ ...doc, $id: DOC_ID });
  });
  after(async () => svc.stop());

  /** The schema the document declares for this path, method and status, compiled. */
  function declared(path: string, method: string, status: number): ValidateFunction {
    const operation = doc.paths[path]?.[method];
    expect(operation, `${method.toUpperCase()} ${path} is documented`).to.exist;
    expect(operation.responses, `${method.toUpperCase()} ${path} documents ${status}`).to.have.property(
      String(status),
    );
    return ajv.compile({
      $ref: `${DOC_ID}#/${pointer('paths', path, method, 'responses', String(status), 'content', 'application/json', 'schema')}`,
    });
  }

  function expectConforms(
    path: string,
    method: string,
    answer: { status: number; headers: Headers; body: unknown },
  ): void {
    const validate = declared(path, method, answer.status);
    const where = `${method.toUpperCase()} ${path} ${answer.status}`;
    expect(answer.headers.get('content-type'), where).to.match(/^application\/json/);
    expect(
      validate(answer.body),
      `${where}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(answer.body)}`,
    ).to.be.true;
  }

  it('when the document is checked against the OpenAPI 3.1 schema, then it is valid', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? [], JSON.stringify(result.errors)).to.deep.equal([]);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal('3.1');
  });

  it('when the document is read, then it lists every public endpoint with every answer it can give', () => {
    const statuses = (path: string, method: string) => Object.keys(doc.paths[path][method].responses).sort();
    const detectStatuses = ['200', '202', '400', '401', '413', '415', '422', '429', '500', '502', '503'];
    expect(statuses('/detect', 'post')).to.deep.equal(detectStatuses);
    expect(statuses('/interface/detect-api/detect_faces', 'post')).to.deep.equal(detectStatuses);
    expect(statuses('/detect/batch', 'post')).to.deep.equal([
      '200',
      '202',
      '400',
      '401',
      '413',
      '415',
      '429',
      '500',
      '503',
    ]);
    expect(statuses('/jobs/{id}', 'get')).to.deep.equal(['200', '401', '404', '429', '500', '503']);
    expect(statuses('/healthz', 'get')).to.deep.equal(['200']);
    expect(statuses('/readyz', 'get')).to.deep.equal(['200', '503']);
    // Metrics are served on GATEWAY_METRICS_PORT, not on the public port this document describes.
    expect(doc.paths).to.not.have.property('/metrics');
    expect(Object.keys(doc.paths['/crops/{path}'].get.responses['200'].content)).to.deep.equal([
      'image/jpeg',
    ]);
    expect(doc.paths['/detect'].post.responses['429'].headers).to.have.property('Retry-After');
  });

  it('when the request schema is read, then it carries the validator’s types, defaults and bounds', () => {
    const request = doc.components.schemas.DetectRequest;
    expect(request.properties.num_frames).to.include({
      type: 'integer',
      default: 5,
      minimum: 1,
      maximum: 100,
    });
    expect(request.properties.min_confidence).to.include({ type: 'number', minimum: 0, maximum: 1 });
    expect(request.properties.expand_ratio).to.include({
      type: 'number',
      default: 0.3,
      minimum: 0,
      maximum: 2,
    });
    for (const flag of ['single_face', 'return_face_url', 'async']) {
      expect(request.properties[flag], flag).to.include({ type: 'boolean', default: false });
    }
    expect(request.properties.url.type).to.equal('string');
    expect(request.required ?? []).to.deep.equal([]);
    expect(request.anyOf).to.deep.equal([{ required: ['url'] }, { required: ['img'] }]);
  });

  it('when uploads are read, then raw and multipart bodies are declared, with the options as query parameters', () => {
    const options = Object.keys(doc.components.schemas.DetectRequest.properties).filter(
      (name) => name !== 'url' && name !== 'img',
    );
    for (const path of ['/detect', '/interface/detect-api/detect_faces']) {
      const op = doc.paths[path].post;
      expect(Object.keys(op.requestBody.content), path).to.deep.equal([
        'application/json',
        'image/*',
        'application/octet-stream',
        'multipart/form-data',
      ]);
      expect(op.parameters.map((p: any) => [p.name, p.in, p.required])).to.deep.equal(
        options.map((name) => [name, 'query', false]),
      );
      expect(op.parameters.find((p: any) => p.name === 'num_frames').schema).to.include({
        type: 'integer',
        minimum: 1,
        maximum: 100,
      });
    }
    const form = doc.components.schemas.DetectUploadForm;
    expect(form.required).to.deep.equal(['file']);
    expect(Object.keys(form.properties)).to.deep.equal(['file', ...options]);
  });

  it('when uploads succeed or fail, then each answer matches the schema declared for its status', async () => {
    const post = async (path: string, body: Buffer | string | FormData, headers: Record<string, string>) => {
      const res = await fetch(`${svc.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, ...headers },
        body,
      });
      return { status: res.status, headers: res.headers, body: await res.json() };
    };
    const obama = await readFile(image('obama.jpg'));
    const form = new FormData();
    form.append('file', new Blob([obama], { type: 'image/jpeg' }), 'obama.jpg');
    form.append('single_face', 'true');
    const answers = {
      200: await post('/detect?single_face=true', obama, { 'content-type': 'image/jpeg' }),
      400: await post('/detect?num_frames=0', obama, { 'content-type': 'image/jpeg' }),
      413: await post('/detect', Buffer.alloc(400_001), { 'content-type': 'application/octet-stream' }),
      415: await post('/detect', obama, { 'content-type': 'image/jpeg', 'content-encoding': 'zstd' }),
      422: await post('/detect', 'plain text', { 'content-type': 'image/png' }),
    };
    for (const [status, answer] of Object.entries(answers)) {
      expect(answer.status).to.equal(Number(status));
      expectConforms('/detect', 'post', answer);
    }
    const viaForm = await post('/interface/detect-api/detect_faces', form, {});
    expect(viaForm.status).to.equal(200);
    expectConforms('/interface/detect-api/detect_faces', 'post', viaForm);
  });

  it('when a batch is answered, polled or refused, then each answer matches the schema declared for it', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const items = [{ img: obamaB64 }, { img: 'bm90IGFuIGltYWdl' }];
    const done = await postJson(`${svc.url}/detect/batch`, { items }, auth);
    expect(done.status).to.equal(200);
    expectConforms('/detect/batch', 'post', done);
    const pending = await postJson(`${svc.url}/detect/batch`, { items, async: true }, auth);
    expect(pending.status).to.equal(202);
    expectConforms('/interface/detect-api/detect_faces_batch', 'post', pending);
    const tooMany = await postJson(`${svc.url}/detect/batch`, { items: Array(17).fill(items[0]) }, auth);
    expect(tooMany.status).to.equal(400);
    expectConforms('/detect/batch', 'post', tooMany);
    const poll = await getJson(`${svc.url}/jobs/${done.body.job_id}`, auth);
    expect(poll.status).to.equal(200);
    expectConforms('/jobs/{id}', 'get', poll);
  });

  it('when auth is read, then both headers are documented and Authorization is said to take precedence', () => {
    const { bearerAuth, apiKeyHeader } = doc.components.securitySchemes;
    expect(bearerAuth).to.include({ type: 'http', scheme: 'bearer' });
    expect(bearerAuth.description).to.match(/precedence/);
    expect(apiKeyHeader).to.include({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(doc.paths['/detect'].post.security).to.deep.equal([{ bearerAuth: [] }, { apiKeyHeader: [] }]);
    expect(doc.paths['/healthz'].get.security).to.equal(undefined);
  });

  it('when real requests succeed, fail or wait, then each answer matches the schema declared for its status', async () => {
    const auth = { authorization: `Bearer ${KEY}` };
    const detect = (path: string, body: unknown, headers: Record<string, string> = auth) =>
      postJson(`${svc.url}${path}`, body, headers);

    expectConforms('/detect', 'post', await detect('/detect', { img: obamaB64 }));
    expectConforms(
      '/interface/detect-api/detect_faces',
      'post',
      await detect('/interface/detect-api/detect_faces', { img: obamaB64, single_face: true }),
    );
    const failures = {
      400: await detect('/detect', { num_frames: 0 }),
      401: await detect('/detect', { img: obamaB64 }, { 'x-api-key': 'wrong' }),
      413: await detect('/detect', { img: 'A'.repeat(600_000) }),
      422: await detect('/detect', { img: `data:image/png;base64,${obamaB64}` }),
    };
    for (const [status, answer] of Object.entries(failures)) {
      expect(answer.status).to.equal(Number(status));
      expectConforms('/detect', 'post', answer);
    }

    const pending = await detect('/detect', { img: obamaB64, async: true });
    expect(pending.status).to.equal(202);
    expectConforms('/detect', 'post', pending);
    let job = await getJson(pending.body.status_url, auth);
    for (let i = 0; i < 200 && job.body.status !== 'completed'; i++) {
      expectConforms('/jobs/{id}', 'get', job);
      await new Promise((r) => setTimeout(r, 50));
      job = await getJson(pending.body.status_url, auth);
    }
    expect(job.body.status).to.equal('completed');
    expectConforms('/jobs/{id}', 'get', job);

    const unknownJob = await getJson(`${svc.url}/jobs/i-zzz-00000000-0000-0000-0000-000000000000`, auth);
    expect(unknownJob.status).to.equal(404);
    expectConforms('/jobs/{id}', 'get', unknownJob);

    expectConforms('/healthz', 'get', await getJson(`${svc.url}/healthz`));
    expectConforms('/readyz', 'get', await getJson(`${svc.url}/readyz`));
    const unsignedCrop = await getJson(`${svc.url}/crops/2024-01-01/job-1-AAAAAAAAAAAAAAAAAAAAAA/f0_0.jpg`);
    expect(unsignedCrop.status).to.equal(403);
    expectConforms('/crops/{path}', 'get', unsignedCrop);
  });

  it('when /docs is fetched, then it renders every operation, field and status offline under a strict CSP', async () => {
    const res = await fetch(`${svc.url}/docs`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp)
      .to.include("default-src 'self'")
      .and.include("script-src 'self'")
      .and.not.include('unsafe-inline');
    const html = await res.text();
    for (const path of Object.keys(doc.paths)) expect(html, path).to.include(`<code>${path}</code>`);
    for (const field of Object.keys(doc.components.schemas.DetectRequest.properties)) {
      expect(html, field).to.include(`<code>${field}</code>`);
    }
    expect(html).to.include('1 to 100').and.include('<code>429</code>').and.include('x-api-key');
    for (const type of ['image/*', 'application/octet-stream', 'multipart/form-data']) {
      expect(html, type).to.include(`<h4>Request body (${type}`);
    }
    expect(html).to.not.match(/<script|https?:\/\/(?!json-schema)/);
  });
});
