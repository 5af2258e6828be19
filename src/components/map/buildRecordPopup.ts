/**
 * A marker popup built with DOM nodes and textContent only: record text is user input and must never be parsed as
 * HTML (no innerHTML, no Leaflet string content).
 */
export interface PopupContent {
  kindLabel: string
  title: string
  subtitle: string
  openLabel: string
  onOpen: () => void
  /** Short highlighted notes (e.g. 已超期), shown under the kind. */
  badges?: readonly string[]
}

export function buildRecordPopup(doc: Document, content: PopupContent): HTMLElement {
  const root = doc.createElement('div')
  root.className = 'gp-popup'
  const kind = doc.createElement('div')
  kind.className = 'gp-popup-kind'
  kind.textContent = content.kindLabel
  const title = doc.createElement('div')
  title.className = 'gp-popup-title'
  title.textContent = content.title
  root.append(kind)
  for (const text of content.badges ?? []) {
    const badge = doc.createElement('span')
    badge.className = 'gp-popup-badge'
    badge.textContent = text
    root.append(badge)
  }
  root.append(title)
  if (content.subtitle) {
    const subtitle = doc.createElement('div')
    subtitle.className = 'gp-popup-subtitle'
    subtitle.textContent = content.subtitle
    root.append(subtitle)
  }
  const open = doc.createElement('button')
  open.type = 'button'
  open.className = 'gp-popup-open'
  open.textContent = content.openLabel
  open.addEventListener('click', content.onOpen)
  root.append(open)
  return root
}
