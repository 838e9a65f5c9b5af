/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // kafkajs and pino are Node-only; keep them out of the bundler so their
  // dynamic requires resolve at run time from node_modules.
  serverExternalPackages: ["kafkajs", "pino"],
};

export default nextConfig;
