// The shopping cart of Emmett's documentation, as a test domain for the
// causeway/emmett tests: events, state, evolve and the decide functions.
import { EmmettError, IllegalStateError, type Event } from '@event-driven-io/emmett'

export type ProductItem = { productId: string; quantity: number; unitPrice: number }
export type CartEvent =
  | Event<'ShoppingCartOpened', { cartId: string; clientId: string; openedAt: string }>
  | Event<'ProductItemAddedToShoppingCart', { cartId: string; productItem: ProductItem }>
  | Event<'ShoppingCartConfirmed', { cartId: string; confirmedAt: string }>

export type Cart =
  | { status: 'Empty' }
  | { status: 'Opened'; items: ProductItem[] }
  | { status: 'Confirmed'; items: ProductItem[] }

export const initialState = (): Cart => ({ status: 'Empty' })

export const evolve = (state: Cart, event: CartEvent): Cart => {
  switch (event.type) {
    case 'ShoppingCartOpened':
      return { status: 'Opened', items: [] }
    case 'ProductItemAddedToShoppingCart':
      return state.status === 'Opened' ? { status: 'Opened', items: [...state.items, event.data.productItem] } : state
    case 'ShoppingCartConfirmed':
      return state.status === 'Opened' ? { status: 'Confirmed', items: state.items } : state
  }
}

export const open = (cartId: string, clientId: string, state: Cart): CartEvent => {
  if (state.status !== 'Empty') throw new IllegalStateError('cart already opened')
  return { type: 'ShoppingCartOpened', data: { cartId, clientId, openedAt: '2026-12-05T00:00:00.000Z' } }
}

export const addItem = (cartId: string, productItem: ProductItem, state: Cart): CartEvent => {
  if (state.status !== 'Opened') throw new IllegalStateError('cart is not open')
  return { type: 'ProductItemAddedToShoppingCart', data: { cartId, productItem } }
}

export const confirm = (cartId: string, state: Cart): CartEvent => {
  if (state.status !== 'Opened') throw new IllegalStateError('cart is not open')
  if (state.items.length === 0) throw new EmmettError('an empty cart cannot be confirmed')
  return { type: 'ShoppingCartConfirmed', data: { cartId, confirmedAt: '2026-12-05T00:01:00.000Z' } }
}
