import { runApp } from '@strata-cache/app-kit'
import { loadConfig } from './config.ts'
import { buildServer } from './server.ts'

runApp('device-info', loadConfig, buildServer)
