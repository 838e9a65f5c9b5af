import { redirect } from "next/navigation";

/** The console opens on Health until an overview page exists. */
export default function Home() {
  redirect("/health");
}
