// The partners map (Leaflet, self-hosted): markers from the page's GeoJSON, or one partner's point, and on the
// administrator's form a click that fills in the coordinates. Without tiles (no connection to the tile server)
// the markers stay on a blank map and a note says why; without this script the page is its list.
(function () {
  "use strict";
  var FILYOVSKY_PARK = [55.7424, 37.4829];

  function popup(feature) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = feature.properties.url;
    link.textContent = feature.properties.name;
    box.appendChild(link);
    var meta = document.createElement("div");
    meta.textContent = [feature.properties.kind_label, feature.properties.address].filter(Boolean).join(" · ");
    box.appendChild(meta);
    return box;
  }

  function setUp(element) {
    var box = element.closest("[data-map-box]");
    box.hidden = false;
    var map = L.map(element, { scrollWheelZoom: false, zoomControl: false }).setView(FILYOVSKY_PARK, 14);
    L.control.zoom({ zoomInTitle: element.dataset.zoomIn, zoomOutTitle: element.dataset.zoomOut }).addTo(map);
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" lang="en">Leaflet</a>');
    var attribution = document.createElement("span");
    attribution.lang = "en";
    attribution.textContent = element.dataset.attribution;
    var tiles = L.tileLayer(element.dataset.tiles, { maxZoom: 19, attribution: attribution.outerHTML });
    var failed = box.querySelector("[data-tiles-failed]");
    tiles.on("tileerror", function () { failed.hidden = false; });
    tiles.addTo(map);

    var marker = null;
    if (element.dataset.point) {
      marker = L.marker(element.dataset.point.split(",").map(Number)).addTo(map);
      map.setView(marker.getLatLng(), 16);
    }
    if (element.dataset.features) {
      fetch(element.dataset.features, { headers: { Accept: "application/geo+json" } })
        .then(function (response) { return response.json(); })
        .then(function (collection) {
          var layer = L.geoJSON(collection, {
            pointToLayer: function (feature, at) { return L.marker(at, { alt: feature.properties.name }); },
            onEachFeature: function (feature, item) { item.bindPopup(popup(feature)); }
          }).addTo(map);
          if (collection.features.length) { map.fitBounds(layer.getBounds(), { padding: [24, 24], maxZoom: 16 }); }
        });
    }
    if (element.dataset.pick) {
      var names = element.dataset.pick.split(",");
      var latitude = document.getElementById(names[0]);
      var longitude = document.getElementById(names[1]);
      map.on("click", function (event) {
        latitude.value = event.latlng.lat.toFixed(6);
        longitude.value = event.latlng.lng.toFixed(6);
        if (marker) { marker.setLatLng(event.latlng); } else { marker = L.marker(event.latlng).addTo(map); }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.L) { return; }
    document.querySelectorAll("[data-map]").forEach(setUp);
  });
})();
