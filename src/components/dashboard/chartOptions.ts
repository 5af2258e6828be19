/** ECharts options for the dashboard's figures (dashboardStats.ts); labels are translated by the caller. */
import type { EChartsCoreOption } from 'echarts/core'
import type { Count, GridSeries } from '../../stats/dashboardStats.ts'

const base = { tooltip: {}, grid: { left: 40, right: 12, top: 36, bottom: 28, containLabel: true } }

export function pieOption(counts: readonly Count[], label: (key: string) => string): EChartsCoreOption {
  return {
    tooltip: { trigger: 'item' },
    series: [
      {
        type: 'pie',
        radius: ['35%', '65%'],
        data: counts.map((entry) => ({ name: label(entry.key), value: entry.count })),
      },
    ],
  }
}

export function barOption(counts: readonly Count[], label: (key: string) => string): EChartsCoreOption {
  return {
    ...base,
    xAxis: {
      type: 'category',
      data: counts.map((entry) => label(entry.key)),
      axisLabel: { interval: 0, rotate: 30 },
    },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ type: 'bar', data: counts.map((entry) => entry.count) }],
  }
}

/** One series per grid over the periods: lines (over time) or stacked bars. */
export function seriesOption(
  series: GridSeries,
  gridName: (id: string) => string,
  type: 'line' | 'bar',
): EChartsCoreOption {
  return {
    ...base,
    tooltip: { trigger: 'axis' },
    legend: { type: 'scroll', top: 0 },
    xAxis: { type: 'category', data: series.periods },
    yAxis: { type: 'value', minInterval: 1 },
    series: series.grids.map((grid, index) => ({
      type,
      name: gridName(grid),
      data: series.counts[index] ?? [],
      ...(type === 'bar' ? { stack: 'grids' } : {}),
    })),
  }
}
