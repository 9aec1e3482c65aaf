// Every operation the terminal sends. Extracted at build time into the
// persisted-documents manifest (`npm run persisted-documents`), so a router
// that accepts only known documents serves exactly these.

import { gql } from "@apollo/client";

export const ORDER_FIELDS = gql`
  fragment OrderFields on Order {
    id
    tableNo
    status
    version
    total
    updatedAt
    lines {
      name
      unitPrice
      quantity
      amount
      item {
        id
      }
    }
  }
`;

export const SIGN_UP = gql`
  mutation SignUp($input: SignUpInput!) {
    signUp(input: $input) {
      token
      expiresAt
      store {
        id
        name
        currency
        timezone
        tableCount
      }
    }
  }
`;

export const LOGIN = gql`
  mutation Login($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      token
      store {
        id
        name
      }
    }
  }
`;

export const CREATE_CATEGORY = gql`
  mutation CreateCategory($name: String!) {
    createCategory(name: $name) {
      id
      name
    }
  }
`;

export const CREATE_ITEM = gql`
  mutation CreateItem($input: CreateItemInput!) {
    createItem(input: $input) {
      id
      name
      price
      category {
        id
      }
    }
  }
`;

export const SET_ITEM_COSTS = gql`
  mutation SetItemCosts($costs: [ItemCostInput!]!) {
    setItemCosts(costs: $costs) {
      id
      cost
    }
  }
`;

// The store and its menu in one request: `Store` comes from the store
// subgraph, its `categories` from the item subgraph, `openOrders` from the
// order subgraph; `Item.cost` from the dashboard subgraph.
export const STORE_AND_MENU = gql`
  query StoreAndMenu {
    me {
      id
      name
      currency
      timezone
      closeoutHour
      tableCount
      categories {
        id
        name
        items {
          id
          name
          price
          cost
          soldOut
        }
      }
      openOrders {
        ...OrderFields
      }
    }
  }
  ${ORDER_FIELDS}
`;

export const OPEN_ORDERS = gql`
  query OpenOrders {
    openOrders {
      ...OrderFields
    }
  }
  ${ORDER_FIELDS}
`;

export const PLACE_ORDER = gql`
  mutation PlaceOrder($tableNo: Int!, $lines: [OrderLineInput!]!) {
    placeOrder(tableNo: $tableNo, lines: $lines) {
      ...OrderFields
    }
  }
  ${ORDER_FIELDS}
`;

export const SET_ORDER_LINES = gql`
  mutation SetOrderLines($tableNo: Int!, $lines: [OrderLineInput!]!, $expectedVersion: Int) {
    setOrderLines(tableNo: $tableNo, lines: $lines, expectedVersion: $expectedVersion) {
      ...OrderFields
    }
  }
  ${ORDER_FIELDS}
`;

export const CHECKOUT = gql`
  mutation Checkout($input: CheckoutInput!) {
    checkout(input: $input) {
      id
      amount
      status
      businessDate
      payments {
        method
        amount
        tendered
        change
      }
      order {
        id
        status
      }
    }
  }
`;

export const REFUND_SALE = gql`
  mutation RefundSale($input: RefundInput!) {
    refundSale(input: $input) {
      id
      status
      refundedAmount
    }
  }
`;

export const TABLE_CHANGED = gql`
  subscription TableChanged {
    tableChanged {
      ...OrderFields
    }
  }
  ${ORDER_FIELDS}
`;

export const DASHBOARD = gql`
  query Dashboard($from: Date!, $to: Date!) {
    salesSummary(from: $from, to: $to) {
      grossSales
      refunds
      salesVolume
      saleCount
      refundCount
      byMethod {
        method
        net
        count
      }
    }
    salesReport(from: $from, to: $to) {
      salesVolume
      cost
      profit
      items {
        item {
          id
          name
        }
        quantity
        salesVolume
        profit
      }
    }
    dailyVolumes(from: $from, to: $to) {
      date
      salesVolume
      profit
      orderCount
    }
  }
`;

export const REQUEST_CONSULTING = gql`
  mutation RequestConsulting($from: Date!, $to: Date!, $language: Language) {
    requestConsulting(from: $from, to: $to, language: $language) {
      id
      status
    }
  }
`;

export const CONSULTING_RESULT = gql`
  subscription ConsultingResult($requestId: ID!) {
    consultingResult(requestId: $requestId) {
      requestId
      status
      content
      error
    }
  }
`;

export const ORDER = gql`
  query Order($id: ID!) {
    order(id: $id) {
      ...OrderFields
    }
  }
  ${ORDER_FIELDS}
`;
