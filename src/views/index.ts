import './store-methods.js'
export { View, type RebuildOptions, type ViewProgress, type ViewStatus } from './view.js'
export type { ViewDefinition } from './definition.js'
export { ViewApplyError, ViewVersionError } from './errors.js'
