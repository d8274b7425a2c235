import { InvalidArgumentError } from '../errors.js'
import { Store } from '../store.js'
import { checkViewName, type ViewDefinition } from './definition.js'
import { View } from './view.js'

declare module '../store.js' {
  interface Store {
    /**
     * Opens (creating when new) the materialised view `name`: a state per
     * key folded over every event `definition.query` matches, persisted
     * with its position under `<dataDir>/views/<name>/`. Call catchUp() or
     * follow() to bring it up to date. One open View per name per Store.
     */
    view<S, P = unknown>(name: string, definition: ViewDefinition<S, P>): View<S, P>
  }
}

const open = new WeakMap<Store, Map<string, View<any, any>>>()

Store.prototype.view = function <S, P>(this: Store, name: string, definition: ViewDefinition<S, P>): View<S, P> {
  this.nativeHandle()
  checkViewName(name)
  let views = open.get(this)
  if (!views) {
    const created = new Map<string, View<any, any>>()
    open.set(this, (views = created))
    this.onClose(() => {
      for (const v of created.values()) v.close()
      created.clear()
    })
  }
  const prior = views.get(name)
  if (prior && !prior.isClosed) throw new InvalidArgumentError(`view ${name} is already open on this store: close it first, or use the open one`, { name })
  const view = new View<S, P>(this, name, definition)
  views.set(name, view)
  return view
}
