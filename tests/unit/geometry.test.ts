import { describe, expect, it } from 'vitest'
import { BORDER_EPSILON, pointInPolygon, type PolygonGeometry } from '#shared/domain/geometry.ts'

/** A 0.01° square grid with a 0.002° square hole in its middle (e.g. a reservoir cut out of the grid). */
const withHole: PolygonGeometry = {
  type: 'Polygon',
  coordinates: [
    [
      [119.6, 30.6],
      [119.61, 30.6],
      [119.61, 30.61],
      [119.6, 30.61],
      [119.6, 30.6],
    ],
    [
      [119.604, 30.604],
      [119.604, 30.606],
      [119.606, 30.606],
      [119.606, 30.604],
      [119.604, 30.604],
    ],
  ],
}

/** An L-shaped (concave) grid, ring left open. */
const lShape: PolygonGeometry = {
  type: 'Polygon',
  coordinates: [
    [
      [0, 0],
      [2, 0],
      [2, 1],
      [1, 1],
      [1, 2],
      [0, 2],
    ],
  ],
}

describe('pointInPolygon', () => {
  it('finds a point inside the grid', () => {
    expect(pointInPolygon({ lng: 119.601, lat: 30.601 }, withHole)).toBe(true)
    expect(pointInPolygon({ lng: 119.609, lat: 30.608 }, withHole)).toBe(true)
  })

  it('finds points outside the grid on every side', () => {
    expect(pointInPolygon({ lng: 119.599, lat: 30.605 }, withHole)).toBe(false)
    expect(pointInPolygon({ lng: 119.611, lat: 30.605 }, withHole)).toBe(false)
    expect(pointInPolygon({ lng: 119.605, lat: 30.599 }, withHole)).toBe(false)
    expect(pointInPolygon({ lng: 119.605, lat: 30.611 }, withHole)).toBe(false)
  })

  it('puts a point inside a hole outside the grid', () => {
    expect(pointInPolygon({ lng: 119.605, lat: 30.605 }, withHole)).toBe(false)
    // Between the hole and the outer ring, on the same latitude: inside again.
    expect(pointInPolygon({ lng: 119.603, lat: 30.605 }, withHole)).toBe(true)
  })

  it('counts points on an edge or a vertex as inside, and just beyond as outside', () => {
    expect(pointInPolygon({ lng: 119.6, lat: 30.605 }, withHole)).toBe(true)
    expect(pointInPolygon({ lng: 119.61, lat: 30.61 }, withHole)).toBe(true)
    expect(pointInPolygon({ lng: 119.605, lat: 30.6 }, withHole)).toBe(true)
    expect(pointInPolygon({ lng: 119.6 - BORDER_EPSILON / 2, lat: 30.605 }, withHole)).toBe(true)
    expect(pointInPolygon({ lng: 119.6 - 1e-5, lat: 30.605 }, withHole)).toBe(false)
    // The hole's edge is the grid's border too.
    expect(pointInPolygon({ lng: 119.604, lat: 30.605 }, withHole)).toBe(true)
  })

  it('handles a concave grid with an open ring', () => {
    expect(pointInPolygon({ lng: 0.5, lat: 1.5 }, lShape)).toBe(true)
    expect(pointInPolygon({ lng: 1.5, lat: 0.5 }, lShape)).toBe(true)
    expect(pointInPolygon({ lng: 1.5, lat: 1.5 }, lShape)).toBe(false)
    // A ray from this point passes exactly through the vertex (1, 1): counted once, not twice.
    expect(pointInPolygon({ lng: 0.5, lat: 1 }, lShape)).toBe(true)
  })

  it('is false for an empty or degenerate polygon', () => {
    expect(pointInPolygon({ lng: 0, lat: 0 }, { type: 'Polygon', coordinates: [] })).toBe(false)
    expect(
      pointInPolygon(
        { lng: 0.5, lat: 0.5 },
        {
          type: 'Polygon',
          coordinates: [
            [
              [0, 0],
              [1, 1],
            ],
          ],
        },
      ),
    ).toBe(false)
  })
})
