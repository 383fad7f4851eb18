import type { JsonSchema, OpenApiDocument, Operation, ResponseObject } from './openapi-types.js';

/**
 * The API reference as one HTML page, rendered on the server from the OpenAPI document itself, so the page
 * works offline and says exactly what the document says.
 */
export function renderDocsPage(doc: OpenApiDocument): string {
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ path, method, op })),
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(doc.info.title)} API reference</title>
<link rel="icon" href="favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="style.css">
</head>
<body class="docs">
<header>
<h1>${esc(doc.info.title)} API reference <small>v${esc(doc.info.version)} · OpenAPI ${esc(doc.openapi)}</small></h1>
<nav><a href="./">Try it in the browser</a> · <a href="openapi.json">openapi.json</a></nav>
</header>
<main>
<p>${inline(doc.info.description)}</p>
<nav aria-label="Endpoints"><ul class="toc">
${operations.map(({ path, method, op }) => `<li><a href="#${op.operationId}"><span class="method">${method.toUpperCase()}</span> <code>${esc(path)}</code></a> ${inline(op.summary)}</li>`).join('\n')}
</ul></nav>
<section>
<h2>Authentication</h2>
<dl>
${Object.entries(doc.components.securitySchemes)
  .map(
    ([name, s]) =>
      `<dt id="auth-${esc(name)}"><code>${esc(name)}</code></dt><dd>${inline(s.description)}</dd>`,
  )
  .join('\n')}
</dl>
</section>
<section>
<h2>Endpoints</h2>
${operations.map(({ path, method, op }) => renderOperation(path, method, op, doc)).join('\n')}
</section>
<section>
<h2>Schemas</h2>
${Object.entries(doc.components.schemas)
  .map(
    ([name, schema]) =>
      `<section id="schema-${esc(name)}" class="schema"><h3>${esc(name)}</h3>${renderSchema(schema)}</section>`,
  )
  .join('\n')}
</section>
</main>
</body>
</html>
`;
}

function renderOperation(path: string, method: string, op: Operation, doc: OpenApiDocument): string {
  const parts = [
    `<section id="${esc(op.operationId)}" class="operation">`,
    `<h3><span class="method">${method.toUpperCase()}</span> <code>${esc(path)}</code></h3>`,
    `<p><strong>${inline(op.summary)}.</strong> ${inline(op.description)}</p>`,
  ];
  if (op.security) {
    const schemes = op.security.flatMap((s) => Object.keys(s));
    parts.push(
      `<p>Authentication: ${schemes.map((n) => `<a href="#auth-${esc(n)}"><code>${esc(n)}</code></a>`).join(' or ')}.</p>`,
    );
  }
  if (op.parameters) {
    parts.push(
      table(
        ['parameter', 'in', 'type', 'description'],
        op.parameters.map((p) => [
          `<code>${esc(p.name)}</code>`,
          esc(p.in),
          typeOf(p.schema),
          inline(p.description),
        ]),
      ),
    );
  }
  if (op.requestBody?.description) parts.push(`<p>${inline(op.requestBody.description)}</p>`);
  for (const [type, media] of Object.entries(op.requestBody?.content ?? {})) {
    const name = media.schema && refName(media.schema);
    parts.push(`<h4>Request body (${esc(type)}${name ? `, ${schemaLink(name)}` : ''})</h4>`);
    const schema = name === undefined ? undefined : doc.components.schemas[name];
    if (schema) parts.push(renderSchema(schema));
  }
  parts.push(
    '<h4>Responses</h4>',
    table(
      ['status', 'description', 'body', 'headers'],
      Object.entries(op.responses).map(([status, r]) => [
        `<code>${esc(status)}</code>`,
        inline(r.description),
        responseBody(r),
        Object.keys(r.headers ?? {})
          .map((h) => `<code>${esc(h)}</code>`)
          .join(', '),
      ]),
    ),
    '</section>',
  );
  return parts.join('\n');
}

function responseBody(r: ResponseObject): string {
  return Object.entries(r.content ?? {})
    .map(([type, media]) => (media.schema?.$ref ? typeOf(media.schema) : `<code>${esc(type)}</code>`))
    .join(', ');
}

function renderSchema(schema: JsonSchema): string {
  const description = schema.description ? `<p>${inline(schema.description)}</p>` : '';
  if (!schema.properties) return `${description}<p>Type: ${typeOf(schema)}${rules(schema)}</p>`;
  const required = new Set(schema.required ?? []);
  return (
    description +
    table(
      ['field', 'type', 'required', 'default', 'rule', 'description'],
      Object.entries(schema.properties).map(([field, prop]) => {
        const p = typeof prop === 'boolean' ? {} : prop;
        return [
          `<code>${esc(field)}</code>`,
          typeOf(p),
          required.has(field) ? 'yes' : 'no',
          p.default === undefined ? '' : `<code>${esc(JSON.stringify(p.default))}</code>`,
          rules(p).replace(/^; /, ''),
          p.description ? inline(p.description) : '',
        ];
      }),
    )
  );
}

/** A readable type: component names link to their schema; tuples, records and nullables spelled out. */
function typeOf(schema: JsonSchema | boolean | undefined): string {
  if (schema === undefined || schema === true) return 'any';
  if (schema === false) return 'nothing';
  const name = refName(schema);
  if (name) return schemaLink(name);
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' or ');
  if (schema.const !== undefined) return `<code>${esc(JSON.stringify(schema.const))}</code>`;
  if (schema.enum)
    return `one of ${schema.enum.map((v) => `<code>${esc(JSON.stringify(v))}</code>`).join(', ')}`;
  if (Array.isArray(schema.type)) return schema.type.map((t) => esc(t)).join(' or ');
  if (schema.type === 'array') {
    if (schema.prefixItems) return `[${schema.prefixItems.map(typeOf).join(', ')}]`;
    return `array of ${typeOf(schema.items as JsonSchema | boolean | undefined)}`;
  }
  if (schema.type === 'object' && schema.properties) {
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties).map(
      ([field, prop]) => `${esc(field)}${required.has(field) ? '' : '?'}: ${typeOf(prop)}`,
    );
    return `{ ${fields.join(', ')} }`;
  }
  if (schema.type === 'object') {
    const values = schema.additionalProperties;
    if (values === undefined || values === true) return 'object';
    if (typeof values === 'object' && values.not !== undefined) return 'empty object';
    return `object of ${typeOf(values)}`;
  }
  const format = schema.format ? ` (${esc(schema.format)})` : '';
  return `${esc(schema.type ?? 'any')}${format}`;
}

function rules(schema: JsonSchema): string {
  const out: string[] = [];
  const { minimum: min, maximum: max } = schema;
  if (min !== undefined && max !== undefined) out.push(`${min} to ${max}`);
  else if (min !== undefined) out.push(`at least ${min}`);
  else if (max !== undefined) out.push(`at most ${max}`);
  if (schema.minLength === 1) out.push('not empty');
  else if (schema.minLength !== undefined) out.push(`at least ${schema.minLength} characters`);
  const keys = typeof schema.propertyNames === 'object' ? schema.propertyNames.pattern : undefined;
  if (keys) out.push(`keys match <code>${esc(keys)}</code>`);
  return out.map((r) => `; ${r}`).join('');
}

function refName(schema: JsonSchema): string | undefined {
  return schema.$ref?.replace('#/components/schemas/', '');
}

function schemaLink(name: string): string {
  return `<a href="#schema-${esc(name)}">${esc(name)}</a>`;
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** Escapes text, then turns `code` spans into <code>. */
function inline(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

function esc(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}
