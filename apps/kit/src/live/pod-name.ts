import { hostname } from 'node:os'

/** How this process is named on the dashboards: `POD_NAME` (Kubernetes' downward API), else `<host>:<pid>`. */
export function podName(env: NodeJS.ProcessEnv = process.env): string {
  const name = env.POD_NAME?.trim()
  return name !== undefined && name !== '' ? name.slice(0, 64) : `${hostname()}:${process.pid}`
}
