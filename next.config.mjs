// NODE_ENV is set by Next itself (next dev / next build), not by an operator.
const isDev = process.env.NODE_ENV === "development";

/**
 * Content Security Policy, without nonces. Next's inline
 * bootstrap scripts need 'unsafe-inline' for scripts, recharts sets inline
 * styles; 'unsafe-eval' only in development (React's dev tooling). The console
 * talks only to its own origin: upstreams are reached through its API routes.
 * No upgrade-insecure-requests: the console is usually served over plain HTTP
 * on an internal network.
 */
const csp = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${isDev ? " 'unsafe-eval'" : ""}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = [
  { key: "Content-Security-Policy", value: csp },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  // Older browsers that ignore frame-ancestors.
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // kafkajs and pino are Node-only; keep them out of the bundler so their
  // dynamic requires resolve at run time from node_modules.
  serverExternalPackages: ["kafkajs", "pino"],
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
