import { appBuild } from '../kit/tsup.app.ts'

export default appBuild()
