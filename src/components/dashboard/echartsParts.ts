/**
 * The only ECharts parts the dashboard uses, imported by name so the bundler drops the rest; echartsLoader.ts loads
 * this module lazily, which keeps all of it out of the initial bundle.
 */
import { init, use } from 'echarts/core'
import { BarChart, LineChart, PieChart } from 'echarts/charts'
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import { SVGRenderer } from 'echarts/renderers'

use([PieChart, BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, SVGRenderer])

export { init }
