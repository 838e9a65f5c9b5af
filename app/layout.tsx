import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { Providers } from "@/components/providers";
import { TopNav } from "@/components/ui/top-nav";
import { consoleConfig } from "@/lib/config/console";
import "./globals.css";

// An inline icon: no extra request, and no /favicon.ico 404 in the browser console.
const icon =
  "data:image/svg+xml," +
  encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2563eb"/><path d="M10 8h12v3.5h-8v3h7v3.5h-7v3h8V24H10z" fill="#fff"/></svg>',
  );

export const metadata: Metadata = {
  title: { default: "Embedline console", template: "%s · Embedline" },
  description: "Operator console of the Embedline embedding pipeline",
  icons: { icon },
  robots: { index: false, follow: false },
};

export const viewport: Viewport = {
  colorScheme: "light dark",
  themeColor: [
    { media: "(prefers-color-scheme: light)", color: "#ffffff" },
    { media: "(prefers-color-scheme: dark)", color: "#12161d" },
  ],
};

// Rendered per request, not at build time: whether CONSOLE_TOKEN is set (the
// Log out button) is the running console's configuration, not the build's.
export const dynamic = "force-dynamic";

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-dvh bg-bg font-sans text-fg antialiased">
        <Providers>
          <TopNav canLogOut={Boolean(consoleConfig().consoleToken)} />
          <main className="mx-auto max-w-6xl px-4 py-6 sm:px-6">{children}</main>
        </Providers>
      </body>
    </html>
  );
}
