/** The JSON body of a GET (or `init`) to one of the stack's HTTP services, whatever its status. */
export async function getJson<T = Record<string, unknown>>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  return (await res.json()) as T;
}
