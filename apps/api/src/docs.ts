import swagger, { type SwaggerTransform } from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, FastifySchema } from "fastify";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import { $ZodType } from "zod/v4/core";
import type { RouteAccess } from "./auth/caller.ts";
import { declareAccess } from "./auth/route-access.ts";

export const docsPath = "/docs";

const schemaParts = ["params", "querystring", "headers", "body"] as const;

/** Whether a route's schemas are zod's (they are converted) or JSON Schema (documented as they are). */
function declaresZod(schema: FastifySchema): boolean {
  const isZod = (value: unknown) => value instanceof $ZodType;
  /** A response is a schema, or `{ description, content: { <type>: { schema } } }`. */
  const responseIsZod = (value: unknown) => {
    if (isZod(value)) return true;
    const content = (value as { content?: Record<string, { schema?: unknown }> } | null)?.content;
    return content !== undefined && Object.values(content).some((entry) => isZod(entry.schema));
  };
  return (
    schemaParts.some((part) => isZod(schema[part])) ||
    (schema.response !== null && typeof schema.response === "object" && Object.values(schema.response).some(responseIsZod))
  );
}

/** `/api/orders/{id}` → orders, `/api/tenants/{id}/api-keys` → api-keys, `/admin/api/…` → admin, the rest → operations. */
function tagOf(url: string): string {
  const api = /^\/api\/([^/]+)(?:\/[^/]+\/([^/]+))?/.exec(url);
  if (api) return api[1] === "tenants" && api[2] ? api[2] : api[1]!;
  return url.startsWith("/admin/") ? "admin" : "operations";
}

/** The document's security for a route's declared access (`config: { access }`, route-access.ts). */
const securityOf: Record<RouteAccess, Record<string, string[]>[] | undefined> = {
  public: undefined,
  tenant: [{ apiKey: [] }, { admin: [] }],
  admin: [{ admin: [] }],
  metrics: [{ metricsToken: [] }, { admin: [] }],
  // The portal's pages are left out of the document (HTML, like the outbox page's).
  portal: undefined,
};

/**
 * Every route that declares a schema is in the document, with no list to keep: zod schemas are
 * converted (fastify-type-provider-zod), JSON Schema is taken as it is. Routes with no schema at
 * all (Bull Board, the UI's own files) are left out. Each operation gets its tag and security
 * from its URL unless it declares them. outbox-relay/fastify's routes take it as their own
 * transform (app.ts).
 */
export const describeRoute: SwaggerTransform = (input) => {
  const { schema, url, route } = input;
  if (!schema || Object.keys(schema).length === 0 || schema.hide) return { schema: { ...schema, hide: true }, url };
  const converted = declaresZod(schema) ? jsonSchemaTransform(input) : { schema, url };
  const documented = { ...converted.schema } as Record<string, unknown>;
  documented.tags ??= [tagOf(url)];
  const security = securityOf[route.config?.access ?? "admin"];
  if (security && !documented.security) documented.security = security;
  return { schema: documented, url: converted.url };
};

/**
 * The OpenAPI 3.1 document at /docs/json (and /docs/yaml) and Swagger UI at /docs, served from
 * @fastify/swagger-ui's own files (nothing from a CDN). Register before the routes: the document
 * collects each route as it is added. Neither needs credentials; the routes they describe do.
 */
export async function registerDocs(app: FastifyInstance, { version }: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Outbox API",
        version,
        description: [
          "Business writes that publish their events through a transactional outbox.",
          "",
          "Money is integer minor units (cents). Every error answers `{ error, code, issues? }`; a 400 names each failing field in `issues`.",
          "`POST /api/tenants` takes the admin credentials (HTTP basic) and answers the tenant's first API key; every other `/api` route takes `Authorization: Bearer <apiKey>` (or the admin credentials).",
        ].join("\n"),
      },
      components: {
        securitySchemes: {
          apiKey: { type: "http", scheme: "bearer", description: "A tenant's API key (`ok_live_…`)" },
          admin: { type: "http", scheme: "basic", description: "ADMIN_USER / ADMIN_PASSWORD" },
          metricsToken: { type: "http", scheme: "bearer", description: "METRICS_TOKEN: reads /metrics only" },
        },
      },
    },
    transform: describeRoute,
    transformObject: jsonSchemaTransformObject,
  });
  // The document and its UI are public (in a scope of their own); the routes they describe are not.
  await app.register(async (docs) => {
    declareAccess(docs, "public");
    await docs.register(swaggerUi, { routePrefix: docsPath, uiConfig: { deepLinking: true, validatorUrl: null } });
  });
}
