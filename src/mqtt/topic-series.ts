import { OptionError } from '../errors.js';

/**
 * Series ids from MQTT topics. A subscription filter such as `sensors/+/reading` names the level that
 * varies per sensor with `+`; by default the series id is the topic's level at the first `+` (here
 * level 1: `sensors/pump-7/reading` is series "pump-7"). `seriesLevel` picks another level (0-based),
 * for example under a `#` filter. A shared subscription's `$share/GROUP/` prefix is not a topic level.
 */
export function seriesLevelOf(filter: string, seriesLevel: number | undefined): number {
  const levels = topicLevels(filter);
  if (seriesLevel !== undefined) {
    const hash = levels.indexOf('#');
    if (!Number.isInteger(seriesLevel) || seriesLevel < 0 || (hash < 0 && seriesLevel >= levels.length)) {
      throw new OptionError(`options.mqtt.seriesLevel must be a topic level of "${filter}" (0 to ${levels.length - 1}), got ${JSON.stringify(seriesLevel)}`, { option: 'mqtt.seriesLevel' });
    }
    return seriesLevel;
  }
  const plus = levels.indexOf('+');
  if (plus < 0) throw new OptionError(`options.mqtt.topic "${filter}" has no + level to take the series id from; give options.mqtt.seriesLevel`, { option: 'mqtt.seriesLevel' });
  return plus;
}

function topicLevels(filter: string): string[] {
  const levels = filter.split('/');
  return levels[0] === '$share' ? levels.slice(2) : levels;
}

/** The series id in a received topic name, or undefined when the topic has no such level (or it is empty). */
export function seriesFromTopic(topic: string, level: number): string | undefined {
  const id = topic.split('/')[level];
  return id === undefined || id === '' ? undefined : id;
}
